"""boto3 against the flowlog emulator's S3: the calls a Python forwarder or tool would make.

Usage: boto3_roundtrip.py ENDPOINT_URL BUCKET FUNCTION_ARN WORKDIR
Credentials and region come from the environment. Prints one JSON object with what it saw.
"""

import json
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig


def main() -> None:
    endpoint, bucket, function_arn, workdir = sys.argv[1:5]
    s3 = boto3.client("s3", endpoint_url=endpoint)

    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "boto3-forwarder",
                    "LambdaFunctionArn": function_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".log.gz"}]}},
                }
            ]
        },
    )
    config = s3.get_bucket_notification_configuration(Bucket=bucket)

    s3.put_object(Bucket=bucket, Key="year=2026/a b+c=d.log.gz", Body=b"0123456789")
    s3.put_object(Bucket=bucket, Key="ignored.txt", Body=b"not a log")

    big = os.path.join(workdir, "big.log.gz")
    with open(big, "wb") as f:
        f.write(os.urandom(12 * 1024 * 1024))
    transfer = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(big, bucket, "multi/big.log.gz", Config=transfer)

    # Without EncodingType botocore asks for encoding-type=url itself and decodes the answer;
    # with it, the caller gets the encoded keys as S3 sent them.
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="year=2026/", Delimiter="/")
    listed_raw = s3.list_objects_v2(Bucket=bucket, Prefix="year=2026/", EncodingType="url")
    ranged = s3.get_object(Bucket=bucket, Key="year=2026/a b+c=d.log.gz", Range="bytes=2-4")
    head = s3.head_object(Bucket=bucket, Key="multi/big.log.gz")
    s3.delete_object(Bucket=bucket, Key="ignored.txt")
    remaining = s3.list_objects_v2(Bucket=bucket)

    print(
        json.dumps(
            {
                "notification_ids": [c["Id"] for c in config.get("LambdaFunctionConfigurations", [])],
                "listed_keys": [o["Key"] for o in listed.get("Contents", [])],
                "listed_keys_raw": [o["Key"] for o in listed_raw.get("Contents", [])],
                "range_status": ranged["ResponseMetadata"]["HTTPStatusCode"],
                "range_body": ranged["Body"].read().decode(),
                "big_size": head["ContentLength"],
                "big_etag": head["ETag"],
                "remaining": sorted(o["Key"] for o in remaining.get("Contents", [])),
            }
        )
    )


if __name__ == "__main__":
    main()
