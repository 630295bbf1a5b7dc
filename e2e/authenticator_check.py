#!/usr/bin/env python3
"""End-to-end check with independent real clients (issue 3).

Starts the release binary with a fresh SQLite database and a real SMTP receiver (below, on
asyncio), walks the journey over HTTP, decodes the QR image from the set-up e-mail with
Debian's `zbarimg`, makes the code with Debian's `oathtool --totp`, and logs in with it.
Standard library only, so CI needs nothing beyond the two Debian tools.
"""

import asyncio
import email
import email.policy
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BINARY = os.environ.get("POORTWACHTER_BIN", "target/release/poortwachter")
PASSWORD = "Fiets-Sleutel-2024!"


class SmtpReceiver:
    """A real SMTP server (RFC 5321): EHLO, MAIL, RCPT, DATA with dot-unstuffing, QUIT."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.port = free_port()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(5)

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._session, "127.0.0.1", self.port)
        )
        ready.set()
        self.loop.run_until_complete(server.serve_forever())

    async def _session(self, reader, writer):
        writer.write(b"220 receiver ESMTP\r\n")
        recipients = []
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line.split(b" ")[0].split(b":")[0].strip().upper()
            if verb == b"EHLO":
                writer.write(b"250-receiver\r\n250 8BITMIME\r\n")
            elif verb == b"MAIL":
                recipients = []
                writer.write(b"250 OK\r\n")
            elif verb == b"RCPT":
                recipients.append(re.search(rb"<([^>]*)>", line).group(1).decode())
                writer.write(b"250 OK\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                data = bytearray()
                while True:
                    chunk = await reader.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                with self.lock:
                    self.messages.append((recipients, bytes(data)))
                writer.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()

    def wait_for(self, predicate, what):
        deadline = time.time() + 15
        while time.time() < deadline:
            with self.lock:
                for recipients, data in self.messages:
                    message = email.message_from_bytes(data, policy=email.policy.default)
                    if predicate(recipients, message):
                        return message
            time.sleep(0.1)
        raise AssertionError(f"no {what} within 15 s")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect
        )

    def request(self, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=15) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def csrf(self, path):
        status, _, html = self.request(path)
        assert status == 200, f"GET {path}: {status}"
        return re.search(r'name="csrf" value="([^"]+)"', html).group(1)

    def submit(self, page, action, fields):
        return self.request(action, {"csrf": self.csrf(page), **fields})


def expect_redirect(result, target):
    status, headers, body = result
    assert status == 303, f"expected a redirect to {target}, got {status}: {body[:300]}"
    assert headers["Location"] == target, f"redirect to {headers['Location']}, not {target}"


def main():
    smtp = SmtpReceiver()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        env = dict(
            os.environ,
            POORTWACHTER_BIND=f"127.0.0.1:{port}",
            POORTWACHTER_PUBLIC_URL=base,
            POORTWACHTER_DATA_DIR=data,
            POORTWACHTER_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
            POORTWACHTER_OUTBOX_POLL_MS="200",
        )

        def cli(*args):
            result = subprocess.run([BINARY, *args], env=env, capture_output=True, text=True)
            assert result.returncode == 0, result.stderr
            return result.stdout

        cli("init")  # a new data folder: only `init` (or `serve`) makes the database
        cli("org", "create", "--slug", "acme", "--name", "Acme B.V.", "--require-digit")
        log_path = os.path.join(data, "server.log")
        # Debug level: the most the server ever logs, to show that no secret is in it; the
        # audit lines (stdout) are checked along with it.
        with open(log_path, "w") as log:
            server = subprocess.Popen([BINARY, "serve"], env=dict(env, RUST_LOG="debug"),
                                      stdout=log, stderr=log)
        try:
            wait_until_up(base)
            secrets = run_journey(cli, smtp, base)
        finally:
            server.terminate()
            server.wait(10)
        with open(log_path) as log:
            lines = log.read()
        assert '"event":"login_code","outcome":"success"' in lines, "the audit line is written"
        for name, secret in secrets.items():
            assert secret not in lines, f"the {name} appears in the server log"
        print(f"server log ({lines.count(chr(10))} lines at debug level) holds none of: "
              + ", ".join(secrets))
    print("authenticator check: 1 passed, 0 failed")


def wait_until_up(base):
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not start")


def run_journey(cli, smtp, base):
    printed = cli("user", "invite", "--org", "acme", "--username", "jan",
                  "--email", "jan@example.nl", "--name", "Jan de Vries")
    invitation = smtp.wait_for(lambda r, m: "jan@example.nl" in r and "Activeer" in m["Subject"],
                               "invitation")
    text = invitation.get_body(("plain",)).get_content()
    link = re.search(r"HIER: (\S+)", text).group(1)
    assert link in printed, "the CLI prints the same link"
    print("invitation received over SMTP:", invitation["Subject"])

    browser = Browser(base)
    path = link[len(base):]
    expect_redirect(browser.submit(path, path, {"password": PASSWORD, "password_repeat": PASSWORD}),
                    "/login?notice=activated&username=jan")
    expect_redirect(browser.submit("/login", "/login", {"username": "jan", "password": PASSWORD}), "/2fa")
    expect_redirect(browser.submit("/2fa", "/2fa/app", {}), "/2fa/app")

    setup = smtp.wait_for(lambda r, m: "jan@example.nl" in r and "aanvraagcode" in m["Subject"],
                          "set-up e-mail")
    images = [p for p in setup.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"], "one inline QR image with a Content-ID"
    with tempfile.NamedTemporaryFile(suffix=".png") as png:
        png.write(images[0].get_content())
        png.flush()
        uri = subprocess.run(["zbarimg", "--raw", "-q", png.name], capture_output=True,
                             text=True, check=True).stdout.strip()
    print("zbarimg decoded:", re.sub(r"secret=[A-Z2-7]+", "secret=…", uri))
    key = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]
    text_key = re.search(r"Aanvraagcode: ([A-Z2-7 ]+)", setup.get_body(("plain",)).get_content())
    assert text_key.group(1).replace(" ", "") == key, "QR and text carry the same key"
    assert uri == f"otpauth://totp/Poortwachter:jan?secret={key}&issuer=Poortwachter", uri

    code = subprocess.run(["oathtool", "--totp", "-b", key], capture_output=True, text=True,
                          check=True).stdout.strip()
    print("oathtool made a 6-digit code:", len(code) == 6)
    expect_redirect(browser.submit("/2fa/app", "/2fa/app/verify", {"code": code}),
                    "/account/recovery-codes")
    status, _, page = browser.request("/account/recovery-codes")
    codes = re.findall(r"<li><code>([0-9-]+)</code></li>", page)
    assert status == 200 and len(codes) == 10, page[:300]
    print("ten herstelcodes shown at the end of the set-up")
    expect_redirect(browser.submit("/account/recovery-codes", "/account/recovery-codes/saved",
                                   {"saved": "yes"}), "/")
    status, _, home = browser.request("/")
    assert status == 200 and "Je bent nu succesvol ingelogd." in home, home[:300]
    print("logged in with the code from oathtool")
    token = link.rsplit("/", 1)[1]
    # (The 6-digit code is left out: six digits turn up by chance in timestamps.)
    return {"password": PASSWORD, "invitation token": token, "TOTP key": key}


if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        print("authenticator check FAILED:", failure, file=sys.stderr)
        print("authenticator check: 0 passed, 1 failed")
        sys.exit(1)
