"""AWS error bodies in each protocol's own format."""
import json
import uuid
from xml.sax.saxutils import escape


class Response:
    def __init__(self, status: int, body: bytes, headers: dict | None = None):
        self.status = status
        self.body = body
        self.headers = headers or {}


class AwsError(Exception):
    """Raised by handlers; rendered in the calling service's error format."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def render(service: str, code: str, message: str, status: int) -> Response:
    rid = str(uuid.uuid4())
    if service == "ec2":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{escape(code)}</Code>"
                f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>")
        return Response(status, body.encode(), {"Content-Type": "text/xml;charset=UTF-8"})
    if service in ("eks", "kube"):
        body = json.dumps({"message": message})
        return Response(status, body.encode(), {"Content-Type": "application/json",
                                                "x-amzn-ErrorType": code, "x-amzn-RequestId": rid})
    if service in ("pricing", "ssm"):  # JSON 1.1: the code in `__type` (and the header)
        body = json.dumps({"__type": code, "message": message})
        return Response(status, body.encode(), {"Content-Type": "application/x-amz-json-1.1",
                                                "x-amzn-ErrorType": code, "x-amzn-RequestId": rid})
    if service == "s3":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{escape(code)}</Code>"
                f"<Message>{escape(message)}</Message><RequestId>{rid}</RequestId></Error>")
        return Response(status, body.encode(), {"Content-Type": "application/xml", "x-amz-request-id": rid})
    # query protocol services (iam, sts, ...)
    kind = "Receiver" if status >= 500 else "Sender"
    body = (f"<ErrorResponse xmlns=\"https://{service}.amazonaws.com/doc/2010-05-08/\"><Error><Type>{kind}</Type>"
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{rid}</RequestId></ErrorResponse>")
    return Response(status, body.encode(), {"Content-Type": "text/xml", "x-amzn-RequestId": rid})
