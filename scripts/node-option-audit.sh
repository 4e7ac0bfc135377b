#!/bin/bash
# Which Node options take effect when they come AFTER the script (issue 14 item 1): for one Node
# binary, every option `node --help` lists, bare and with a value, is given after a script and
# compared with an unknown option in the same place. A difference is an option a job argument
# could use if it ever reached Node's command line (the front passes none: src/act/front.ts).
#   bash scripts/node-option-audit.sh /usr/bin/node
set -u
node=${1:?usage: node-option-audit.sh NODE}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
printf 'NODE_OPTIONS="--require %s/evil.js"\n' "$work" >evil.env
printf 'require("fs").writeFileSync("%s/EVIL", "1");\n' "$work" >evil.js
printf '{"nodeOptions":{"require":["%s/evil.js"]}}\n' "$work" >node.config.json
printf 'console.log(JSON.stringify({a: process.argv.slice(2), e: process.execArgv, k: Object.keys(process.env).sort()}));\n' >s.js
one() { rm -f EVIL; timeout 10 env -i "$node" s.js "$1" 2>&1; echo "rc=$? evil=$([ -e EVIL ] && echo yes || echo no)"; }
opts=$("$node" --help | grep -oE '^\s+(-[a-zA-Z], )?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+' | sort -u)
n=0
hits=()
for o in $opts; do
  for form in "$o" "$o=evil.env"; do
    n=$((n + 1))
    want=$(one "--cjw-unknown${form#"$o"}" | sed "s/--cjw-unknown/$o/g")
    got=$(one "$form")
    [ "$got" = "$want" ] || hits+=("$form")
  done
done
echo "$("$node" --version): $n forms of $(echo "$opts" | wc -w) options checked after the script; taking effect: ${hits[*]:-none}"
