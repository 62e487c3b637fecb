/**
 * The shell side of completion: each script hands the words typed so far to
 * `evtctl __complete WORD…` (the last word is the one being completed, maybe empty) and offers
 * what it prints, one candidate a line. A first line `:files` asks for the shell's own file
 * completion instead (a schema file, `--file`). All the knowledge stays in evtctl, so the scripts
 * never go stale when commands or flags change.
 */
export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = (typeof SHELLS)[number]

const bash = `# evtctl completion for bash. Load it with: source <(evtctl completion bash)
_evtctl_complete() {
  local line=\${COMP_LINE:0:COMP_POINT}
  local -a words
  read -r -a words <<<"$line"
  [[ $line =~ [[:space:]]$ ]] && words+=("")
  local cur=\${words[\${#words[@]}-1]}
  local IFS=$'\\n'
  local -a out
  out=($(command evtctl __complete "\${words[@]:1}" 2>/dev/null))
  if [[ \${out[0]} == ":files" ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  fi
  # bash splits the word at ":" and "=" (COMP_WORDBREAKS): offer only the part after them.
  local lead=\${cur%"\${cur##*[:=]}"}
  COMPREPLY=()
  local c
  for c in "\${out[@]}"; do COMPREPLY+=("\${c#"$lead"}"); done
}
complete -o nosort -F _evtctl_complete evtctl 2>/dev/null || complete -F _evtctl_complete evtctl
`

const zsh = `#compdef evtctl
# evtctl completion for zsh. Load it with: source <(evtctl completion zsh)
# (or save it as _evtctl in a directory of $fpath).
_evtctl() {
  local -a out
  out=("\${(@f)$(command evtctl __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ \${out[1]} == ":files" ]]; then
    _files
    return
  fi
  out=(\${out:#})
  (( \${#out} )) && compadd -Q -- "\${out[@]}"
}
if (( $+functions[compdef] )); then
  compdef _evtctl evtctl
fi
`

const fish = `# evtctl completion for fish. Load it with: evtctl completion fish | source
# (or save it as ~/.config/fish/completions/evtctl.fish).
function __evtctl_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out (command evtctl __complete $words[2..-1] 2>/dev/null)
    if test "$out[1]" = ":files"
        __fish_complete_path (commandline -ct)
        return
    end
    printf '%s\\n' $out
end
complete -c evtctl -f -a '(__evtctl_complete)'
`

export const completionScripts: Record<Shell, string> = {bash, zsh, fish}
