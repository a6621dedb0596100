"""A real SMTP server on 127.0.0.1 for the SMTP client tests (aiosmtpd).

It prints exactly `READY <port>` on stdout once it listens, then one JSON
line per message it accepted:
    {"mailFrom", "rcptTos": [...], "subject", "body", "authUser", "tls"}
("subject" decoded from RFC 2047, "body" decoded with LF line ends, "authUser"
null without AUTH)and exits with status 0 on SIGTERM. Run it with the venv python that
tests/smtp/venv.sh prints.

Modes (--security):
  starttls  plain TCP; the client must send STARTTLS before MAIL, and AUTH is
            offered only after TLS.
  tls       TLS from the first byte (implicit TLS, as on port 465).
  none      plain TCP throughout.
--hang accepts connections and never answers (for client time-outs).
--fail-rcpt answers 550 to every RCPT TO.
"""

import argparse
import asyncio
import email.parser
import email.policy
import json
import logging
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# aiosmtpd warns about things that are deliberate here: its own use of a
# deprecated field on every AUTH, and AUTH "without TLS" under implicit TLS,
# which it cannot see. Its errors still reach stderr.
logging.getLogger("mail.log").setLevel(logging.ERROR)
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")


class Recorder:
    """The aiosmtpd handler: refuses recipients in --fail-rcpt mode and
    prints every accepted message as one JSON line."""

    def __init__(self, fail_rcpt):
        self.fail_rcpt = fail_rcpt

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.fail_rcpt:
            return "550 5.1.1 Recipient refused by the test server"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.parser.BytesParser(policy=email.policy.default).parsebytes(envelope.content)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        record = {
            "mailFrom": envelope.mail_from,
            "rcptTos": envelope.rcpt_tos,
            "subject": str(message["Subject"] or ""),
            "body": message.get_content().replace("\r\n", "\n"),
            "authUser": login,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
        }
        print(json.dumps(record, ensure_ascii=False), flush=True)
        return "250 2.0.0 Message accepted"


class Silent(asyncio.Protocol):
    """--hang: keeps the connection open and never sends a byte; says
    CONNECTED on stdout for each connection, so a test knows a client is
    waiting on it."""

    def connection_made(self, transport):
        print("CONNECTED", flush=True)


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        # handled=False lets aiosmtpd answer "535 5.7.8 Authentication
        # credentials invalid" on failure.
        return AuthResult(success=ok, handled=False, auth_data=auth_data)
    return authenticate


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--security", choices=["starttls", "tls", "none"], default="starttls")
    parser.add_argument("--cert", help="PEM certificate (starttls, tls)")
    parser.add_argument("--key", help="PEM private key (starttls, tls)")
    parser.add_argument("--auth", metavar="USER:PASS", help="require AUTH with these credentials")
    parser.add_argument("--hang", action="store_true", help="accept connections, never answer")
    parser.add_argument("--fail-rcpt", action="store_true", help="answer 550 to RCPT TO")
    arguments = parser.parse_args()
    if arguments.security != "none" and not (arguments.cert and arguments.key):
        parser.error(f"--security {arguments.security} needs --cert and --key")
    if arguments.auth is not None and ":" not in arguments.auth:
        parser.error("--auth takes USER:PASS")
    return arguments


def make_protocol_factory(arguments):
    if arguments.hang:
        return Silent, None
    context = None
    if arguments.security != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(arguments.cert, arguments.key)
    options = {"hostname": "localhost"}
    if arguments.auth is not None:
        user, password = arguments.auth.split(":", 1)
        options["authenticator"] = make_authenticator(user, password)
        options["auth_required"] = True
    if arguments.security == "starttls":
        options["tls_context"] = context
        options["require_starttls"] = True
        listen_context = None
    else:
        # aiosmtpd only counts a STARTTLS upgrade as TLS; with implicit TLS
        # (or none) its "AUTH needs TLS" rule has nothing to check.
        options["auth_require_tls"] = False
        listen_context = context
    handler = Recorder(arguments.fail_rcpt)
    return (lambda: SMTP(handler, **options)), listen_context


async def serve(arguments):
    factory, listen_context = make_protocol_factory(arguments)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, host="127.0.0.1", port=arguments.port, ssl=listen_context)
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)
    port = server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    await stopping.wait()
    server.close()


def main():
    arguments = parse_arguments()
    asyncio.run(serve(arguments))
    return 0


if __name__ == "__main__":
    sys.exit(main())
