"""A page in headless Chromium over the DevTools protocol (--remote-debugging-pipe): no extra package.

`load(html_path, width)` opens a file:// page at a viewport width and returns what a test asserts on:
the rendered text, console errors and uncaught exceptions, every network request the page made, a
full-page PNG screenshot, and the answer of one JavaScript expression.  The pipe carries JSON
messages ended by a NUL byte: fd 3 into the browser, fd 4 out of it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars", "--remote-debugging-pipe")


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


@dataclass
class Page:
    text: str = ""
    errors: list[str] = field(default_factory=list)  # console errors, uncaught exceptions, failed loads
    requests: list[str] = field(default_factory=list)  # every URL the page asked for, its own included
    screenshot: bytes = b""
    value: Any = None  # the result of `evaluate`


class _Pipe:
    def __init__(self, exe: str, profile: str):
        import fcntl

        def high(fd: int) -> int:  # a copy at 10 or above, so the shell's 3<& and 4>& cannot clobber it
            new = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
            os.close(fd)
            return new

        to_browser_r, self._w = map(high, os.pipe())
        self._r, from_browser_w = map(high, os.pipe())
        # The browser reads fd 3 and writes fd 4: bash moves the pipe ends there (dash takes one-digit fds only).
        script = f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w} {to_browser_r}<&- {from_browser_w}>&-'
        self.proc = subprocess.Popen(["bash", "-c", script, exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            reply = self._next(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise TimeoutError(method)

    def wait_for(self, method: str, timeout: float = 30.0) -> None:
        deadline = time.time() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.time() > deadline:
                raise TimeoutError(method)
            self.events.append(self._next(deadline))

    def _next(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._r], [], [], max(0.0, deadline - time.time()))
            if not ready:
                raise TimeoutError("no message from the browser")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("the browser closed the pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)


def load(html_path: Path, width: int, height: int = 900, mobile: bool = False, evaluate: str = "null",
         exe: str | None = None) -> Page:
    exe = exe or find_chromium()
    if exe is None:
        raise FileNotFoundError("no chromium on PATH")
    with tempfile.TemporaryDirectory() as profile:
        pipe = _Pipe(exe, profile)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                pipe.send(f"{domain}.enable", session=session)
            pipe.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                            "deviceScaleFactor": 1, "mobile": mobile},
                      session=session)
            pipe.events.clear()
            pipe.send("Page.navigate", {"url": html_path.resolve().as_uri()}, session=session)
            pipe.wait_for("Page.loadEventFired")
            text = pipe.send("Runtime.evaluate", {"expression": "document.body.innerText", "returnByValue": True},
                             session=session)["result"].get("value", "")
            value = pipe.send("Runtime.evaluate", {"expression": evaluate, "returnByValue": True,
                                                   "awaitPromise": True}, session=session)["result"].get("value")
            shot = pipe.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                             session=session, timeout=60)["data"]
            time.sleep(0.2)  # late console messages
            pipe.send("Runtime.evaluate", {"expression": "0"}, session=session)
        finally:
            pipe.close()
    page = Page(text=text, screenshot=base64.b64decode(shot), value=value)
    for e in pipe.events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            page.errors.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
        elif m == "Runtime.exceptionThrown":
            page.errors.append("exception: " + p["exceptionDetails"].get("text", ""))
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            page.errors.append("log: " + p["entry"].get("text", ""))
        elif m == "Network.requestWillBeSent":
            page.requests.append(p["request"]["url"])
        elif m == "Network.loadingFailed":
            page.errors.append("failed load: " + p.get("errorText", ""))
    return page
