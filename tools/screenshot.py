"""README screenshots: log in to a running Odoo server as a user, open an action in
headless Chromium and save the page as PNG. Not a test; run by hand with Odoo's
virtualenv (it has requests and websocket-client):

    python tools/screenshot.py URL DB LOGIN PASSWORD ACTION_XMLID OUT.png [VIEW_TYPE]

Chromium listens for the DevTools protocol on CHROMIUM_PORT (default 8143); SHOT_TZ sets
the browser's time zone (the web client's "today").
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time

import requests
import websocket


def main(url, db, login, password, action, out, view_type="graph"):
    session = requests.Session()
    answer = session.post(
        f"{url}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": db, "login": login, "password": password}},
        timeout=60,
    ).json()
    if answer.get("error"):
        sys.exit(f"Login failed: {answer['error']}")
    session_id = session.cookies["session_id"]
    port = int(os.environ.get("CHROMIUM_PORT", "8143"))
    profile = tempfile.mkdtemp(prefix="crm_outbound_shot_")
    chromium = subprocess.Popen(
        [
            "/usr/bin/chromium",
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "--window-size=1400,800",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _attempt in range(100):
            try:
                targets = requests.get(f"http://127.0.0.1:{port}/json", timeout=2).json()
                page = next(target for target in targets if target["type"] == "page")
                break
            except (requests.RequestException, StopIteration):
                time.sleep(0.3)
        socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=120)
        counter = iter(range(1, 10**6))

        def call(method, **params):
            ident = next(counter)
            socket.send(json.dumps({"id": ident, "method": method, "params": params}))
            while True:
                message = json.loads(socket.recv())
                if message.get("id") == ident:
                    return message.get("result", {})

        host = url.split("//", 1)[1].split(":")[0]
        call("Network.enable")
        call("Network.setCookie", name="session_id", value=session_id, domain=host, path="/")
        call(
            "Emulation.setDeviceMetricsOverride",
            width=int(os.environ.get("SHOT_WIDTH", "1400")),
            height=800,
            deviceScaleFactor=1,
            mobile=False,
        )
        if os.environ.get("SHOT_TZ"):
            # The browser's day is the web client's "today" (the filters' context_today).
            call("Emulation.setTimezoneOverride", timezoneId=os.environ["SHOT_TZ"])
        call("Page.enable")
        call("Page.navigate", url=f"{url}/odoo/action-{action}?view_type={view_type}")
        # Wait until the view has rendered its data and nothing is loading.
        for _attempt in range(120):
            time.sleep(1)
            ready = call(
                "Runtime.evaluate",
                expression=(
                    "!!document.querySelector('.o_action_manager .o_view_controller') && "
                    "!document.querySelector('.o_loading_indicator, .o-main-components-container .o_loading') && "
                    "!!document.querySelector('.o_graph_renderer canvas, .o_pivot table, .o_list_table')"
                ),
                returnByValue=True,
            )
            if ready.get("result", {}).get("value"):
                break
        time.sleep(3)
        shot = call("Page.captureScreenshot", format="png")
        with open(out, "wb") as file:
            file.write(base64.b64decode(shot["data"]))
        socket.close()
    finally:
        chromium.terminate()
        chromium.wait(timeout=30)


if __name__ == "__main__":
    main(*sys.argv[1:])
