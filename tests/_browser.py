"""A minimal headless-Chromium driver over the DevTools protocol (``--remote-debugging-pipe``),
standard library only: open a page, collect console errors and uncaught exceptions, run
JavaScript, take a screenshot.  Used by tests/workflow/test_report.py."""
from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000", "--hide-scrollbars"]


def find_chromium():
    for c in (CHROMIUM, shutil.which("chromium") or ""):
        if c and os.access(c, os.X_OK):
            return c
    return None


class Browser:
    """``with Browser(user_data_dir) as b: b.open(url); b.errors; b.screenshot(path)``."""

    def __init__(self, user_data_dir, chromium=None, timeout=60.0):
        self.timeout = timeout
        self._id = 0
        self._replies: dict = {}
        self._events: "queue.Queue" = queue.Queue()
        self.console: list = []     # (level, text) of every console message / log entry
        self.errors: list = []      # console errors, log errors and uncaught exceptions
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # the child expects the pipe on fds 3 (reads) and 4 (writes); move ours out of the way
        hi_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
        hi_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def child_fds():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self.proc = subprocess.Popen(
            [chromium or find_chromium(), *FLAGS, f"--user-data-dir={user_data_dir}",
             "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=child_fds, pass_fds=(3, 4))
        os.close(hi_r)
        os.close(hi_w)
        self.stderr_lines: list = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self.session = None

    # ---- transport ----
    def _drain_stderr(self):
        for line in iter(self.proc.stderr.readline, b""):
            self.stderr_lines.append(line.decode("utf-8", "replace"))

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_child, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    self._replies[msg["id"]] = msg
                else:
                    self._on_event(msg)

    def _on_event(self, msg):
        m, p = msg.get("method"), msg.get("params") or {}
        if m == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.console.append((p.get("type"), text))
            if p.get("type") in ("error", "assert"):
                self.errors.append(f"console.{p.get('type')}: {text}")
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails") or {}
            text = (d.get("exception") or {}).get("description") or d.get("text")
            self.errors.append(f"uncaught exception: {text}")
        elif m == "Log.entryAdded":
            e = p.get("entry") or {}
            self.console.append((e.get("level"), e.get("text")))
            if e.get("level") == "error":
                self.errors.append(f"log error ({e.get('source')}): {e.get('text')} {e.get('url', '')}")
        self._events.put(msg)

    def send(self, method, params=None, session=True):
        self._id += 1
        i = self._id
        msg = {"id": i, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        end = time.monotonic() + self.timeout
        while i not in self._replies:
            if time.monotonic() > end or self.proc.poll() is not None:
                raise TimeoutError(f"no reply to {method}; chromium stderr:\n"
                                   + "".join(self.stderr_lines[-20:]))
            time.sleep(0.02)
        reply = self._replies.pop(i)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result") or {}

    def wait_event(self, method, timeout=None):
        end = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < end:
            try:
                msg = self._events.get(timeout=0.1)
            except queue.Empty:
                continue
            if msg.get("method") == method:
                return msg
        raise TimeoutError(f"no {method} event")

    # ---- page ----
    def open(self, url, settle=2.0):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        for dom in ("Runtime", "Log", "Page"):
            self.send(f"{dom}.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")
        time.sleep(settle)

    def eval(self, expression, settle=0.0):
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluate {expression!r}: {r['exceptionDetails']}")
        if settle:
            time.sleep(settle)
        return (r.get("result") or {}).get("value")

    def screenshot(self, path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
