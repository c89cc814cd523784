#!/usr/bin/env python3
"""Fidelity check: drive promobot's Sandbox with the real python-gitlab client.

Run by SandboxTests (FidelityTests.swift), which starts the sandbox in-process, seeds it and sets:
  SANDBOX_URL             base URL, e.g. http://127.0.0.1:PORT
  SANDBOX_TOKEN           maintainer token (the MR author)
  SANDBOX_APPROVER_TOKEN  token of a second user who approves
  SANDBOX_PROJECT         project path (default group/deploy)
Exits 0 when every check passes; prints the failing check otherwise.
"""
import os
import sys

import gitlab
from gitlab import exceptions as exc

URL = os.environ["SANDBOX_URL"]
TOKEN = os.environ["SANDBOX_TOKEN"]
APPROVER = os.environ["SANDBOX_APPROVER_TOKEN"]
PROJECT = os.environ.get("SANDBOX_PROJECT", "group/deploy")
MANY = int(os.environ.get("SANDBOX_MANY_MRS", "250"))


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def main():
    gl = gitlab.Gitlab(URL, private_token=TOKEN, retry_transient_errors=False)
    gl.auth()
    check(gl.user.username == "bot", f"authenticated user is {gl.user.username!r}")

    bad = gitlab.Gitlab(URL, private_token="not-a-token")
    try:
        bad.auth()
        check(False, "bad token accepted")
    except exc.GitlabAuthenticationError as e:
        check(e.response_code == 401, f"bad token gave {e.response_code}")

    project = gl.projects.get(PROJECT)
    check(project.path_with_namespace == PROJECT, "project path")
    check(project.default_branch == "main", "default branch")
    check(project.http_url_to_repo == f"{URL}/{PROJECT}.git", f"http_url_to_repo {project.http_url_to_repo}")
    check(gl.projects.get(project.id).path_with_namespace == PROJECT, "project by id")

    # A branch through the commits API, then an MR from it.
    project.commits.create({
        "branch": "fidelity", "start_branch": "main", "commit_message": "bump web to 2.0.0",
        "actions": [{"action": "update", "file_path": "apps/web/deployment.yaml", "content": "image: web:2.0.0\n"}],
    })
    check(project.branches.get("fidelity").name == "fidelity", "branch exists")
    mr = project.mergerequests.create({
        "source_branch": "fidelity", "target_branch": "main", "title": "Promote web 2.0.0",
        "description": "promotion", "labels": ["promotion", "env::prod"], "remove_source_branch": True,
    })
    check(mr.iid >= 1 and mr.state == "opened", "created MR")
    check(sorted(mr.labels) == ["env::prod", "promotion"], f"labels {mr.labels}")
    check(mr.author["username"] == "bot", "author is the token's user")

    try:
        project.mergerequests.create({"source_branch": "fidelity", "target_branch": "main", "title": "again"})
        check(False, "duplicate MR accepted")
    except exc.GitlabCreateError as e:
        check(e.response_code == 409, f"duplicate gave {e.response_code}")
        check(f"Another open merge request already exists for this source branch: !{mr.iid}" in str(e.error_message),
              f"duplicate message {e.error_message}")

    found = project.mergerequests.list(state="opened", source_branch="fidelity", target_branch="main")
    check([m.iid for m in found] == [mr.iid], "find existing MR by branches")

    # Update: draft title blocks merging, labels replace.
    mr.title = "Draft: Promote web 2.0.0"
    mr.labels = ["promotion"]
    mr.save()
    mr = project.mergerequests.get(mr.iid)
    check(mr.detailed_merge_status == "draft_status", f"draft status {mr.detailed_merge_status}")
    check(mr.labels == ["promotion"], "labels replaced")
    mr.title = "Promote web 2.0.0"
    mr.save()

    # Notes.
    note = mr.notes.create({"body": "status <!-- promobot:status -->"})
    note.body = "updated <!-- promobot:status -->"
    note.save()
    bodies = [n.body for n in mr.notes.list(all=True) if not n.system]
    check(bodies == ["updated <!-- promobot:status -->"], f"notes {bodies}")

    # Approvals by a second user.
    approvals = mr.approvals.get()
    check(approvals.approvals_left == 1, f"approvals_left before {approvals.approvals_left}")
    try:
        mr.approve()
        check(False, "author approved own MR")
    except exc.GitlabAuthenticationError as e:
        check(e.response_code == 401, "author approval refused with 401")
    gl2 = gitlab.Gitlab(URL, private_token=APPROVER)
    gl2.projects.get(PROJECT, lazy=True).mergerequests.get(mr.iid).approve()
    approvals = mr.approvals.get()
    check(approvals.approvals_left == 0, "approved")
    check([a["user"]["username"] for a in approvals.approved_by] == ["approver"], f"approved_by {approvals.approved_by}")

    # Merge: stale SHA refused, then merged with branch removal.
    mr = project.mergerequests.get(mr.iid)
    check(mr.detailed_merge_status == "mergeable", f"mergeable {mr.detailed_merge_status}")
    try:
        mr.merge(sha="0" * 40)
        check(False, "stale sha merged")
    except exc.GitlabMRClosedError as e:
        check(e.response_code == 409, f"stale sha gave {e.response_code}")
    mr.merge(sha=mr.sha, should_remove_source_branch=True)
    mr = project.mergerequests.get(mr.iid)
    check(mr.state == "merged" and mr.merge_commit_sha, "merged")
    f = project.files.get("apps/web/deployment.yaml", ref="main")
    check(f.decode() == b"image: web:2.0.0\n", "merged content on main")
    try:
        project.branches.get("fidelity")
        check(False, "source branch kept")
    except exc.GitlabGetError as e:
        check(e.response_code == 404, "source branch removed")

    # Pagination over many MRs.
    head = project.branches.get("main").commit["id"]
    for i in range(MANY):
        name = f"page-{i}"
        project.branches.create({"branch": name, "ref": head})
        project.mergerequests.create({"source_branch": name, "target_branch": "main", "title": f"Page {i}"})
    everything = project.mergerequests.list(state="opened", all=True, per_page=100)
    check(len(everything) == MANY, f"all=True gave {len(everything)}")
    lazy = project.mergerequests.list(state="opened", iterator=True, per_page=100)
    check(lazy.total == MANY and lazy.total_pages == (MANY + 99) // 100, f"totals {lazy.total} {lazy.total_pages}")
    check(sum(1 for _ in lazy) == MANY, "iterator count")
    page2 = project.mergerequests.list(state="opened", page=2, per_page=100)
    check(len(page2) == min(100, max(0, MANY - 100)), "page 2 size")
    iids = [m.iid for m in everything]
    check(len(set(iids)) == MANY, "no duplicates across pages")
    print(f"python-gitlab {gitlab.__version__}: all fidelity checks passed ({MANY} MRs paginated)")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - report any failure as a non-zero exit
        print(f"FIDELITY FAILURE: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
