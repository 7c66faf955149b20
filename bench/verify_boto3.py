"""The guide's test_s3.py steps done with boto3, as the T3 Chat backend would: the
baseline `t3s3 verify` is compared with in scripts/bench.sh. Reads the same .env."""
import sys
import time
import urllib.request

import boto3
from dotenv import dotenv_values

env = dotenv_values(sys.argv[1] if len(sys.argv) > 1 else ".env")
s3 = boto3.client(
    "s3",
    aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    region_name=env["AWS_REGION"],
    endpoint_url=env.get("AWS_ENDPOINT_URL"),
)
bucket = env["S3_BUCKET_NAME"]
key = f"test_user/test_conversation/{time.time_ns():x}/test_file.txt"
content = b"Hello, this is a test file for T3 Chat S3 setup!"
s3.get_bucket_location(Bucket=bucket)
s3.put_object(Bucket=bucket, Key=key, Body=content, ContentType="text/plain")
assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == content
url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=60)
assert urllib.request.urlopen(url).read() == content
s3.delete_object(Bucket=bucket, Key=key)
try:
    s3.head_object(Bucket=bucket, Key=key)
    sys.exit("still exists")
except s3.exceptions.ClientError as error:
    assert error.response["Error"]["Code"] in ("404", "NoSuchKey")
