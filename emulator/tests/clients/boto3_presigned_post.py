"""A browser-style POST upload (boto3 `generate_presigned_post` + multipart/form-data).

Usage: boto3_presigned_post.py ENDPOINT_URL BUCKET KEY
Credentials and region come from the environment. Prints the HTTP status of the POST.
"""

import sys
import urllib.request
import uuid

import boto3


def main() -> None:
    endpoint, bucket, key = sys.argv[1:4]
    s3 = boto3.client("s3", endpoint_url=endpoint)
    post = s3.generate_presigned_post(Bucket=bucket, Key=key, ExpiresIn=600)

    boundary = uuid.uuid4().hex
    parts = []
    for name, value in post["fields"].items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload.log"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + b"posted by a browser form\n"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        post["url"],
        data=b"".join(parts),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        print(response.status)


if __name__ == "__main__":
    main()
