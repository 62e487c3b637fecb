/** kafkajs's own fetch-batch class (kafkajs 2.2.4), used by the group-less fetcher. */
declare module 'kafkajs/src/consumer/batch.js' {
  const Batch: unknown
  export default Batch
}
