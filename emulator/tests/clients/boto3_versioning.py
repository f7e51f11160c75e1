"""boto3 against a versioned bucket of the flowlog emulator: overwrite one key, read every
version back by id, page through ListObjectVersions, delete (a marker), restore by copying.

Usage: boto3_versioning.py ENDPOINT_URL BUCKET FUNCTION_ARN
Credentials and region come from the environment. Prints one JSON object with what it saw.
"""

import json
import sys

import boto3
from botocore.exceptions import ClientError

KEY = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24/a b.log"


def main() -> None:
    endpoint, bucket, function_arn = sys.argv[1:4]
    s3 = boto3.client("s3", endpoint_url=endpoint)

    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )

    written = []
    for i in range(3):
        out = s3.put_object(Bucket=bucket, Key=KEY, Body=f"write {i}\n".encode())
        written.append(out["VersionId"])
    bodies = [
        s3.get_object(Bucket=bucket, Key=KEY, VersionId=v)["Body"].read().decode() for v in written
    ]
    head = s3.head_object(Bucket=bucket, Key=KEY, VersionId=written[0])

    paged = []
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 1}):
        paged += [(v["VersionId"], v["IsLatest"]) for v in page.get("Versions", [])]

    deleted = s3.delete_object(Bucket=bucket, Key=KEY)
    try:
        s3.get_object(Bucket=bucket, Key=KEY)
        after_delete = None
    except ClientError as e:
        after_delete = {
            "code": e.response["Error"]["Code"],
            "delete_marker": e.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker"),
        }
    markers = [m["VersionId"] for m in s3.list_object_versions(Bucket=bucket).get("DeleteMarkers", [])]

    # Restoring an old version the documented way: copy it over the key.
    restored = s3.copy_object(
        Bucket=bucket, Key=KEY, CopySource={"Bucket": bucket, "Key": KEY, "VersionId": written[0]}
    )
    current = s3.get_object(Bucket=bucket, Key=KEY)

    print(
        json.dumps(
            {
                "status": status,
                "written": written,
                "bodies": bodies,
                "head_version": head.get("VersionId"),
                "paged": paged,
                "deleted": {"marker": deleted.get("DeleteMarker"), "version": deleted.get("VersionId")},
                "after_delete": after_delete,
                "markers": markers,
                "restored": {
                    "source": restored.get("CopySourceVersionId"),
                    "version": restored.get("VersionId"),
                },
                "current": {"version": current.get("VersionId"), "body": current["Body"].read().decode()},
            }
        )
    )


if __name__ == "__main__":
    main()
