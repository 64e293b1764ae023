"""Shared pieces of the end-to-end CLI tests: named checks that record pass/fail without
stopping the others, a scratch folder, and running the sdnc binary."""
import os
import shutil
import subprocess
import traceback


class CheckFailed(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def expect_error(rc, se, *words):
    """A refused input: a non-zero exit without a signal and one "sdnc: [" line naming every word."""
    check(rc not in (0, None) and rc > 0, f"exit code {rc}, expected a non-zero exit without a signal")
    lines = [l for l in se.strip().splitlines() if l]
    check(len(lines) == 1 and lines[0].startswith("sdnc: ["), f"expected one 'sdnc: [' line, got: {se.strip()[:600]}")
    for w in words:
        check(w in lines[0], f"message {lines[0]!r} does not name {w!r}")
    return lines[0]


class Suite:
    """A list of named checks; `case` registers one, `main` runs the selected ones."""

    def __init__(self, tag):
        self.tag, self.cases, self.results = tag, [], []
        self.work = None
        self.binary = None

    def case(self, name):
        def wrap(fn):
            def run():
                try:
                    detail = fn() or ""
                    self.results.append((name, True, detail))
                    print(f"[{self.tag}] ok    {name}{'  ' + detail if detail else ''}", flush=True)
                except Exception as e:  # noqa: BLE001 - a failing check must not stop the others
                    self.results.append((name, False, str(e)))
                    print(f"[{self.tag}] FAIL  {name}: {e}", flush=True)
                    if not isinstance(e, CheckFailed):
                        traceback.print_exc()
            run.case_name = name
            self.cases.append(run)
            return fn
        return wrap

    def fresh_dir(self, name):
        d = os.path.join(self.work, name)
        if os.path.exists(d):
            shutil.rmtree(d)
        os.makedirs(d)
        return d

    def sdnc(self, *args, timeout=600, stdin=None, env=None):
        p = subprocess.run([self.binary, *map(str, args)], input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, env=env)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def run(self, selector=""):
        for run in self.cases:
            if selector in run.case_name:
                run()
        failed = [r for r in self.results if not r[1]]
        print(f"\n[{self.tag}] {len(self.results) - len(failed)} of {len(self.results)} checks passed")
        for name, _, detail in failed:
            print(f"[{self.tag}] FAILED: {name}: {detail}")
        return 1 if failed or not self.results else 0
