#!/usr/bin/env bash
# The shell behind action.yml: install posture, run the scan, hand the report paths to the next steps.
#
# Inputs come as environment variables (never interpolated into the script, so an input cannot inject
# shell): INPUT_PROVIDER, INPUT_TIER, INPUT_FRAMEWORK, INPUT_ARGS (extra `posture scan` arguments,
# shell-quoted), INPUT_FAIL_ON, INPUT_FORMATS, INPUT_OUTPUT_DIR, INPUT_INSTALL (true|false),
# INPUT_PACKAGE (what pip installs, default: this action's own source with the provider's extra).
# Writes to $GITHUB_OUTPUT: report-json, sarif-file, output-dir, category, exit-code; and a summary
# to $GITHUB_STEP_SUMMARY. It exits 0 after a scan that wrote its reports (the action fails the job
# later, after the SARIF upload, from exit-code) and 2 when there is nothing to upload.
set -euo pipefail

provider=${INPUT_PROVIDER:-aws}
tier=${INPUT_TIER:-tier-1}
fail_on=${INPUT_FAIL_ON:-none}
formats=${INPUT_FORMATS:-json,sarif,console}
output_dir=${INPUT_OUTPUT_DIR:-posture-out}
python=${POSTURE_PYTHON:-python3}
action_dir=$(cd "$(dirname "$0")/.." && pwd)

case "$provider" in
  aws|azure|gcp) ;;
  *) echo "posture action: error: provider must be aws, azure or gcp (got '$provider')" >&2; exit 2 ;;
esac
case ",$formats," in
  *,json,*) ;;
  *) formats="$formats,json" ;;
esac
case ",$formats," in
  *,sarif,*) ;;
  *) formats="$formats,sarif" ;;
esac

if [ "${INPUT_INSTALL:-true}" = "true" ]; then
  package=${INPUT_PACKAGE:-"$action_dir[$provider]"}
  echo "::group::install $package"
  "$python" -m pip install --quiet --disable-pip-version-check "$package"
  echo "::endgroup::"
fi

# Extra arguments are split like a shell would (quotes respected), without evaluating them.
extra=()
if [ -n "${INPUT_ARGS:-}" ]; then
  while IFS= read -r -d '' word; do extra+=("$word"); done < <(
    "$python" -c 'import shlex, sys; sys.stdout.write("".join(w + "\0" for w in shlex.split(sys.argv[1])))' \
      "$INPUT_ARGS")
fi
framework=()
if [ -n "${INPUT_FRAMEWORK:-}" ]; then framework=(--framework "$INPUT_FRAMEWORK"); fi

set +e
posture scan --provider "$provider" --tier "$tier" "${framework[@]}" --fail-on "$fail_on" \
  --format "$formats" --output-dir "$output_dir" "${extra[@]}"
code=$?
set -e

report="$output_dir/posture-report.json"
sarif="$output_dir/posture-report.sarif"
out=${GITHUB_OUTPUT:-/dev/null}
echo "exit-code=$code" >> "$out"
echo "output-dir=$output_dir" >> "$out"
if [ ! -f "$report" ] || [ ! -f "$sarif" ]; then
  echo "posture action: error: the scan wrote no report (exit $code)" >&2
  exit 2
fi
# One code-scanning category per tier and scope, so uploads for several accounts or tiers coexist.
category=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["runs"][0]["automationDetails"]["id"])' \
  "$sarif")
{
  echo "report-json=$report"
  echo "sarif-file=$sarif"
  echo "category=$category"
} >> "$out"

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  "$python" - "$report" "$code" >> "$GITHUB_STEP_SUMMARY" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
tier = report["tier"]["id"]
print(f"### posture: {tier} (exit {sys.argv[2]})\n")
print("| scope | tier | attainment | pass rate |\n|---|---|---|---|")
for a in report["attainment"]:
    print(f"| {a['provider']}:{a['scope']} | {a['tier']} | {a['status']} | {a['pass_rate']:.0%} |")
failures = report["summary"]["failures_by_severity"]
print("\nFailures by severity: " + ", ".join(f"{k} {v}" for k, v in failures.items()))
PY
fi
echo "posture action: report $report, SARIF $sarif (category $category), exit $code" >&2
