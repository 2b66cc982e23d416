"""Every command line of the README and docs/*.md, as a user would copy it, is a valid
command of this build: the command exists, its options exist and take a value or not as
written, its required options are there. Each line runs with DUALSYNC_PARSE_ONLY=1 (the
tools parse it and stop), so nothing is executed and no daemon is needed.

Usage: test_docs_commands.py BUILD_DIR SOURCE_DIR"""
import os
import re
import shlex
import subprocess
import sys

build, source = sys.argv[1], sys.argv[2]
tools = {
    "dualsync": os.path.join(build, "node", "dualsync"),
    "dualsync-node": os.path.join(build, "node", "dualsync-node"),
    "dualsync-broker": os.path.join(build, "broker", "dualsync-broker"),
}
SHELL_OPS = {"|", "||", "&", "&&", ";", ">", ">>", "<", "2>&1"}


def command_lines(path):
    """(line number, text) of each tool invocation in the file's code blocks."""
    fenced, pending, start = False, "", 0
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            if not fenced:
                continue
            if pending:
                pending += " " + line.strip()
            elif re.match(r"\s*(sudo -u \S+ |runuser -u \S+ -- )?(dualsync|dualsync-node|dualsync-broker) ", line):
                pending, start = line.strip(), n
            else:
                continue
            if pending.endswith("\\"):
                pending = pending[:-1]
                continue
            yield start, pending
            pending = ""


def words(text):
    lexer = shlex.shlex(text, posix=True, punctuation_chars="|&;<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    out = []
    for w in lexer:
        if w in SHELL_OPS or w.startswith(">"):
            break
        out.append(w)
    if out[:2] == ["sudo", "-u"]:
        out = out[3:]
    if out[:2] == ["runuser", "-u"]:
        out = out[4:]
    return out


failures, checked = [], 0
docs = [os.path.join(source, "README.md")] + sorted(
    os.path.join(source, "docs", f) for f in os.listdir(os.path.join(source, "docs"))
    if f.endswith(".md"))
for path in docs:
    for n, text in command_lines(path):
        argv = words(text)
        if any(w in ("[", "…", "...") or w.startswith("[") or "|" in w for w in argv):
            continue  # a synopsis, not a command line
        if "--data" not in argv:
            continue  # help, --version and the like
        tool = tools[argv[0]]
        r = subprocess.run([tool] + argv[1:], env=dict(os.environ, DUALSYNC_PARSE_ONLY="1"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        checked += 1
        if r.returncode != 0:
            failures.append(f"{os.path.relpath(path, source)}:{n}: {text}\n    {r.stderr.strip()}")
print(f"{checked} command lines of the docs checked")
if failures:
    print("FAIL: these documented commands are not valid commands of this build:")
    print("\n".join(failures))
    sys.exit(1)
