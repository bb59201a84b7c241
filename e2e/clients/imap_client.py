"""Python's imaplib against Correo: the session a desktop client has, then IDLE.

Usage: imap_client.py PORT USER PASSWORD
Prints one line per step ("ok <step> <detail>") and "IDLING" once IDLE is running; the
test then delivers a message through Correo's pipeline, which must wake the IDLE.
"""
import imaplib
import sys
import time

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def ok(step, detail=""):
    print(f"ok {step} {detail}", flush=True)


def check(result, step):
    typ, data = result
    if typ != "OK":
        raise SystemExit(f"{step} failed: {typ} {data}")
    return data


box = imaplib.IMAP4("127.0.0.1", port)
check(box.login(user, password), "login")
ok("login")
listing = check(box.list(), "list")
ok("list", b" ".join(listing).decode())
count = int(check(box.select("INBOX"), "select")[0])
ok("select", count)
ids = check(box.search("UTF-8", "SUBJECT", '"Hola"'), "search")[0].split()
ok("search", len(ids))
data = check(box.fetch(ids[0], "(UID FLAGS ENVELOPE BODY.PEEK[TEXT])"), "fetch")
ok("fetch", b"Llego" in data[0][1] or b"Lleg" in data[0][1])
check(box.store(ids[0], "+FLAGS", "(\\Flagged)"), "store")
flags = check(box.fetch(ids[0], "(FLAGS)"), "fetch flags")[0]
ok("store", b"\\Flagged" in flags)
copied = box.copy(ids[0], "Trash")
ok("copy", copied[0] == "OK" and b"COPYUID" in (box.untagged_responses.get("COPYUID", [b""])[0] or b"COPYUID"))
typ, data = box._simple_command("MOVE", ids[0], "Junk")
ok("move", typ)
appended = check(box.append("Drafts", "(\\Draft)", None, b"From: ana@example.test\r\nSubject: borrador\r\n\r\ntexto\r\n"), "append")
ok("append", appended[0].decode())
box.select("Trash")
check(box.store("1:*", "+FLAGS", "(\\Deleted)"), "store deleted")
expunged = check(box.expunge(), "expunge")
ok("expunge", len([x for x in expunged if x]))
box.select("INBOX")

# IDLE by hand (imaplib has no idle() before Python 3.14): RFC 2177.
tag = box._new_tag()
box.send(tag + b" IDLE\r\n")
line = box.readline()
if not line.startswith(b"+"):
    raise SystemExit(f"IDLE not accepted: {line!r}")
print("IDLING", flush=True)
deadline = time.time() + 60
woke = None
while time.time() < deadline:
    line = box.readline()
    if line.endswith(b"EXISTS\r\n"):
        woke = line.strip().decode()
        break
box.send(b"DONE\r\n")
while True:
    line = box.readline()
    if line.startswith(tag):
        break
ok("idle", woke)
box.logout()
