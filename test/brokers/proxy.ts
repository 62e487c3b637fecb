import {createServer, Socket} from 'node:net'

/**
 * A TCP proxy on loopback in front of 127.0.0.1:`targetPort`, recording every byte the client
 * sends: "some other host" for the tests that check where credentials go (#18.1).
 */
export async function loggingProxy(
  targetPort: number,
): Promise<{port: number; sent(): string; close(): void}> {
  const chunks: Buffer[] = []
  const sockets: Socket[] = []
  const server = createServer((client) => {
    const upstream = new Socket()
    sockets.push(client, upstream)
    client.on('data', (b: Buffer) => chunks.push(b))
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    // Writes before the connection is up are buffered by the socket: nothing is lost.
    upstream.connect(targetPort, '127.0.0.1')
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as {port: number}).port,
    sent: () => Buffer.concat(chunks).toString('latin1'),
    close: () => {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}
