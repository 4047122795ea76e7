#!/usr/bin/env bash
# The step of the plan-comment action (action.yml beside this file).
#
# Renders INPUT_PLAN_FILE with `decom show -markdown`, splits it at the
# `<!-- decom: end of part i of n -->` lines decom writes between parts, and keeps one
# comment per part in pull request INPUT_PULL_REQUEST of GITHUB_REPOSITORY: each
# comment starts with a marker line naming INPUT_COMMENT_ID and its part, is edited
# in place on the next push, and parts a shorter plan no longer has are deleted.
# Without a plan file the single comment says the plan failed and links the run.
# GitHub is reached through gh (GH_TOKEN); .ci/test-actions runs this script with a
# stand-in gh.
set -euo pipefail

fail() {
    printf '::error title=decom plan comment::%s\n' "$*" >&2
    exit 1
}

repo="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}"
pr="${INPUT_PULL_REQUEST:-}"
id="${INPUT_COMMENT_ID:-default}"
plan_file="${INPUT_PLAN_FILE:?the plan-file input is empty}"
[[ "$pr" =~ ^[0-9]+$ ]] || fail "no pull request number ('${pr}'): run on pull_request events or set the pull-request input"
[[ "$id" =~ ^[A-Za-z0-9._/-]+$ ]] || fail "comment-id '${id}' may hold only letters, digits and . _ / -"

# A marker the body of a part starts with: `<!-- decom-plan id=<id> part=<i> -->`.
# Each part decom writes is shorter than the limit it was given; the marker takes
# less than the 536 characters between 65,000 and GitHub's 65,536.
marker() { printf '<!-- decom-plan id=%s part=%s -->' "$id" "$1"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ -s "$plan_file" ]]; then
    decom show "$plan_file" -markdown --max-comment-chars 65000 >"$work/plan.md" \
        || fail "decom show could not render $plan_file"
    # part-1.md, part-2.md, …: the text between the separator lines.
    awk -v dir="$work" '
        BEGIN { n = 1 }
        /^<!-- decom: end of part [0-9]+ of [0-9]+ -->$/ { n++; next }
        { print > (dir "/part-" n ".md") }
    ' "$work/plan.md"
else
    run_url="${GITHUB_SERVER_URL:-https://github.com}/${repo}/actions/runs/${GITHUB_RUN_ID:-}"
    printf '%s\n' "**decom plan failed**: there is no plan file (\`$plan_file\`)." \
        "See [the run]($run_url) for the error." >"$work/part-1.md"
fi
count=$(find "$work" -name 'part-*.md' | wc -l | tr -d ' ')
[[ "$count" -ge 1 ]] || fail "decom show wrote nothing for $plan_file"

# Existing parts of this plan's comment: "<comment id> <part>" per line.
gh api --paginate "repos/${repo}/issues/${pr}/comments" \
    --jq '.[] | [.id, (.body | split("\n")[0])] | @tsv' >"$work/comments.tsv"
awk -F '\t' -v prefix="<!-- decom-plan id=${id} part=" '
    index($2, prefix) == 1 {
        part = substr($2, length(prefix) + 1)
        sub(/ -->.*/, "", part)
        if (part ~ /^[0-9]+$/) print $1, part
    }
' "$work/comments.tsv" >"$work/existing"

for ((part = 1; part <= count; part++)); do
    { marker "$part"; printf '\n'; cat "$work/part-$part.md"; } >"$work/body.md"
    comment=$(awk -v part="$part" '$2 == part { print $1; exit }' "$work/existing")
    if [[ -n "$comment" ]]; then
        gh api --method PATCH "repos/${repo}/issues/comments/${comment}" -F "body=@$work/body.md" >/dev/null
        echo "updated part $part of $count (comment $comment)"
    else
        gh api --method POST "repos/${repo}/issues/${pr}/comments" -F "body=@$work/body.md" >/dev/null
        echo "posted part $part of $count"
    fi
done

# Parts the plan no longer has (it got shorter) go.
awk -v count="$count" '$2 > count { print $1 }' "$work/existing" | while read -r stale; do
    gh api --method DELETE "repos/${repo}/issues/comments/${stale}" >/dev/null
    echo "deleted comment $stale, a part the plan no longer has"
done

printf 'comments=%s\n' "$count" >>"${GITHUB_OUTPUT:-/dev/null}"
