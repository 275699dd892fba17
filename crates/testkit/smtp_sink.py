"""A real SMTP server for tests: accepts every message and writes it to a directory.

Usage: python3 smtp_sink.py PORT DIR. Prints "ready" once listening.
"""
import asyncio
import email
import email.policy
import json
import pathlib
import sys
import uuid

from aiosmtpd.controller import Controller


class Save:
    def __init__(self, directory: pathlib.Path):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        decoded = {
            "from": str(message["From"]),
            "to": [str(a) for a in envelope.rcpt_tos],
            "subject": str(message["Subject"]),
            "body": body.get_content() if body is not None else "",
        }
        name = self.directory / f"{uuid.uuid4().hex}.json"
        tmp = name.with_suffix(".tmp")
        tmp.write_text(json.dumps(decoded))
        tmp.rename(name)
        return "250 OK"


def main() -> None:
    port, directory = int(sys.argv[1]), pathlib.Path(sys.argv[2])
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(Save(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_until_complete(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
