"""A mail server for tests/api/email.rs: Python's aiosmtpd, not parlor's code.

It listens on 127.0.0.1 and prints one JSON line: {"port"}. Then for every mail it accepts it
prints one JSON line: the envelope (mail_from, rcpt_tos), the headers, the MIME types of the
parts, and the text and HTML bodies as a mail reader decodes them. It answers by recipient:
bounce@... is refused for good (550), flaky@... is refused once for now (451) and then taken,
anyone else is taken.
"""

import asyncio
import email
import json
from email import policy

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self):
        self.refused_once = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce@"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("flaky@") and address not in self.refused_once:
            self.refused_once.add(address)
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        mail = email.message_from_bytes(envelope.content, policy=policy.default)
        text = mail.get_body(preferencelist=("plain",))
        html = mail.get_body(preferencelist=("html",))
        report = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": {k.lower(): str(v) for k, v in mail.items()},
            "parts": [part.get_content_type() for part in mail.walk()],
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
        }
        print(json.dumps(report), flush=True)
        return "250 Message accepted for delivery"


async def main():
    handler = Handler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
