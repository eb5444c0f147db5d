"""Attachment contents in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, OSS/COS in S3 mode), for
desks whose processes run on several hosts. Needs the `s3` extra (boto3)."""

from __future__ import annotations

from typing import Any

from wuyou.desk.media import MediaMissing


class S3Media:
    """Objects `<prefix><sha256>` in one bucket; boto3 takes credentials from the settings or its usual chain."""

    def __init__(self, *, bucket: str, endpoint_url: str | None = None, region: str = "us-east-1",
                 access_key: str | None = None, secret_key: str | None = None, prefix: str = "wuyou/media/") -> None:
        import boto3  # type: ignore[import-untyped]

        self.bucket = bucket
        self.prefix = prefix
        self._client: Any = boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                                         aws_access_key_id=access_key, aws_secret_access_key=secret_key)

    def put(self, key: str, data: bytes) -> None:
        self._client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def get(self, key: str) -> bytes:
        try:
            body: bytes = self._client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except self._client.exceptions.NoSuchKey as exc:
            raise MediaMissing(key) from exc
        return body
