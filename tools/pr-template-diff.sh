#!/usr/bin/env bash
# The pull request preview's template diff: synthesizes every preset with this checkout's
# synth and compares it with the base branch's committed templates/<preset>.yaml
# (`synth diff --format markdown`). Prints one markdown document, headed by a marker the
# workflow uses to find and update its own comment.
#
# Usage: tools/pr-template-diff.sh BASE_REF SYNTH_BIN [OUT_DIR]
#   e.g. tools/pr-template-diff.sh origin/main target/debug/synth > preview.md
# A preset new on this branch is listed as new; bad input to synth diff fails the script.
set -euo pipefail
base=${1:?usage: tools/pr-template-diff.sh BASE_REF SYNTH_BIN [OUT_DIR]}
synth=${2:?usage: tools/pr-template-diff.sh BASE_REF SYNTH_BIN [OUT_DIR]}
out=${3:-$(mktemp -d)}
synth=$(cd "$(dirname "$synth")" && pwd)/$(basename "$synth")
mkdir -p "$out/base" "$out/head"
git rev-parse --verify --quiet "$base^{commit}" >/dev/null \
  || { echo "error: $base is not a commit here; fetch the base branch first (git fetch origin BRANCH)" >&2; exit 2; }

# Each committed templates/<preset>.yaml names a preset.
presets=()
for file in templates/*.yaml; do
  presets+=("$(basename "$file" .yaml)")
done

echo "<!-- synth-pr-preview -->"
echo "# Stack preview"
echo
echo "Templates synthesized from this pull request, compared with \`templates/\` on \`${base#origin/}\`."
changed=()
for preset in "${presets[@]}"; do
  "$synth" --preset "$preset" >"$out/head/$preset.yaml"
  echo
  if ! git show "$base:templates/$preset.yaml" >"$out/base/$preset.yaml" 2>/dev/null; then
    echo "## \`$preset\`: new preset"
    echo
    echo "No \`templates/$preset.yaml\` on the base branch; the whole template is new."
    changed+=("$preset")
    continue
  fi
  status=0
  (cd "$out" && "$synth" diff "base/$preset.yaml" "head/$preset.yaml" --format markdown) \
    >"$out/$preset.md" || status=$?
  case $status in
    0) echo "## \`$preset\`: no changes" ;;
    1) echo "## \`$preset\`"; echo; sed -E 's/^(#{1,5}) /#\1 /' "$out/$preset.md"; changed+=("$preset") ;;
    *) exit "$status" ;;
  esac
done
echo
if [ "${#changed[@]}" -eq 0 ]; then
  echo "**No preset's template changes.**"
else
  echo "**Presets whose template changes:** ${changed[*]}"
fi
