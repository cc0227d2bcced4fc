#!/usr/bin/python3
"""Reference MSK IAM token made by botocore (python3-botocore), the way
aws-msk-iam-sasl-signer-python makes it, at a fixed time.

  botocore_msk_token.py REGION AKID SECRET SESSION_TOKEN|- YYYYmmddTHHMMSSZ USER_AGENT

Prints the presigned URL and the token, one per line. Exits 77 when
botocore is not installed (the calling test then skips).
"""
import base64
import datetime
import sys
import types

try:
    import botocore.auth
    import botocore.credentials
    from botocore.awsrequest import AWSRequest
except ImportError:
    sys.stderr.write("python3-botocore is not installed\n")
    sys.exit(77)


def main():
    region, akid, secret, session, amzdate, agent = sys.argv[1:7]
    fixed = datetime.datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ")

    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

        @classmethod
        def now(cls, tz=None):
            return fixed.replace(tzinfo=tz) if tz else fixed

    # Only botocore.auth sees the fixed clock.
    botocore.auth.datetime = types.SimpleNamespace(
        datetime=Fixed, timezone=datetime.timezone, timedelta=datetime.timedelta)
    creds = botocore.credentials.Credentials(akid, secret, None if session == "-" else session)
    req = AWSRequest(method="GET", url=f"https://kafka.{region}.amazonaws.com/",
                     params={"Action": "kafka-cluster:Connect"})
    botocore.auth.SigV4QueryAuth(creds, "kafka-cluster", region, expires=900).add_auth(req)
    url = f"{req.url}&User-Agent={agent}"
    print(url)
    print(base64.urlsafe_b64encode(url.encode()).decode().rstrip("="))


if __name__ == "__main__":
    main()
