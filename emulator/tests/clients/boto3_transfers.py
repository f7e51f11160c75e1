"""boto3 managed transfers and the calls ordinary client flows make, against the flowlog
emulator: multipart upload, managed copy (UploadPartCopy), download, ACL / policy / ownership
calls, checksums, a chunked PUT, a retried completion, listing details, Expires.

Usage: boto3_transfers.py ENDPOINT_URL BUCKET WORKDIR
Credentials and region come from the environment. Prints one JSON object with what it saw.
"""

import base64
import datetime
import json
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

MIB = 1024 * 1024


def error_code(call, **kwargs):
    try:
        call(**kwargs)
        return None
    except ClientError as e:
        return e.response["Error"]["Code"]


def main() -> None:
    endpoint, bucket, workdir = sys.argv[1:4]
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=bucket)

    # Managed transfers: multipart upload, multipart copy (UploadPartCopy), ranged download.
    source = os.path.join(workdir, "big.bin")
    with open(source, "wb") as f:
        f.write(os.urandom(12 * MIB))
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_file(source, bucket, "big.bin", Config=config)
    s3.copy({"Bucket": bucket, "Key": "big.bin"}, bucket, "copy.bin", Config=config)
    target = os.path.join(workdir, "copy.bin")
    s3.download_file(bucket, "copy.bin", target, Config=config)
    with open(source, "rb") as a, open(target, "rb") as b:
        same = a.read() == b.read()
    part = s3.head_object(Bucket=bucket, Key="copy.bin", PartNumber=1)
    attributes = s3.get_object_attributes(
        Bucket=bucket, Key="copy.bin", ObjectAttributes=["ObjectParts", "ObjectSize"]
    )

    # ACL, policy and ownership calls.
    bucket_acl = s3.get_bucket_acl(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_object_acl(Bucket=bucket, Key="big.bin", ACL="private")
    object_acl = s3.get_object_acl(Bucket=bucket, Key="big.bin")
    no_policy = error_code(s3.get_bucket_policy, Bucket=bucket)
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:DeleteBucket",
                    "Resource": f"arn:aws:s3:::{bucket}",
                }
            ],
        }
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    stored_policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")

    # Checksums: a value that is not base64 at all, and a well-formed wrong one.
    put = lambda **kw: s3.put_object(Bucket=bucket, Key="sum", Body=b"payload", **kw)  # noqa: E731
    garbage_sha = error_code(put, ChecksumAlgorithm="SHA256", ChecksumSHA256="bad")
    wrong_sha = error_code(
        put, ChecksumAlgorithm="SHA256", ChecksumSHA256=base64.b64encode(bytes(32)).decode()
    )

    # A PUT with chunked transfer encoding and no Content-Length (ceph s3-tests' way).
    chunked = boto3.client("s3", endpoint_url=endpoint)
    chunked.meta.events.register(
        "before-sign.s3.PutObject",
        lambda request, **kwargs: request.headers.add_header("Transfer-Encoding", "chunked"),
    )
    chunked_status = chunked.put_object(Bucket=bucket, Key="chunked", Body=b"bar")[
        "ResponseMetadata"
    ]["HTTPStatusCode"]
    chunked_body = s3.get_object(Bucket=bucket, Key="chunked")["Body"].read().decode()

    # A completion retried after it succeeded.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mpu")
    etag = s3.upload_part(
        Bucket=bucket, Key="mpu", UploadId=upload["UploadId"], PartNumber=1, Body=b"one part"
    )["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
    first = s3.complete_multipart_upload(
        Bucket=bucket, Key="mpu", UploadId=upload["UploadId"], MultipartUpload=parts
    )
    again = s3.complete_multipart_upload(
        Bucket=bucket, Key="mpu", UploadId=upload["UploadId"], MultipartUpload=parts
    )

    # Listing details and Expires.
    zero = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    empty_delimiter = s3.list_objects_v2(Bucket=bucket, Delimiter="")
    expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    s3.put_object(Bucket=bucket, Key="expiring", Body=b"x", Expires=expires)
    head = s3.head_object(Bucket=bucket, Key="expiring")

    print(
        json.dumps(
            {
                "copy_equal": same,
                "parts_count": part.get("PartsCount"),
                "attributes": {
                    "size": attributes.get("ObjectSize"),
                    "parts": attributes.get("ObjectParts", {}).get("TotalPartsCount"),
                },
                "bucket_acl": [g["Permission"] for g in bucket_acl["Grants"]],
                "object_acl": [g["Permission"] for g in object_acl["Grants"]],
                "no_policy": no_policy,
                "policy_round_trip": stored_policy == policy,
                "ownership": ownership["ObjectOwnership"],
                "location": location,
                "garbage_sha": garbage_sha,
                "wrong_sha": wrong_sha,
                "chunked": {"status": chunked_status, "body": chunked_body},
                "retried_completion": {"first": first["ETag"], "again": again["ETag"]},
                "zero": {"truncated": zero["IsTruncated"], "count": zero["KeyCount"]},
                "empty_delimiter_echoed": "Delimiter" in empty_delimiter,
                "expires": head["Expires"].isoformat() if "Expires" in head else None,
            }
        )
    )


if __name__ == "__main__":
    main()
