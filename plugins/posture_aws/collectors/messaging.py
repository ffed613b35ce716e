"""SNS topics and SQS queues: encryption at rest (attributes read per resource, concurrently)."""

from __future__ import annotations

from typing import Any

from posture_aws.context import UnitContext

TOPIC, QUEUE = "aws.sns.topic", "aws.sqs.queue"


def collect_topics(ctx: UnitContext) -> None:
    with ctx.collecting(TOPIC) as sink:
        sns = ctx.client("sns")
        arns = [t["TopicArn"] for t in ctx.pages(sns, "list_topics", "Topics")]
        for arn, attrs, exc in ctx.parallel(lambda a: sns.get_topic_attributes(TopicArn=a)["Attributes"], arns):
            if exc is not None:
                raise exc
            key = (attrs or {}).get("KmsMasterKeyId")
            sink.add(ctx.fact(TOPIC, arn, arn.rsplit(":", 1)[-1], {
                "encrypted": bool(key), "kms_key_id": key,
                "aws_managed_key": bool(key) and key.startswith("alias/aws/"),
            }))


def collect_queues(ctx: UnitContext) -> None:
    with ctx.collecting(QUEUE) as sink:
        sqs = ctx.client("sqs")
        # Without MaxResults, ListQueues returns at most 1,000 queues and no NextToken.
        urls = list(ctx.pages(sqs, "list_queues", "QueueUrls", PaginationConfig={"PageSize": 1000}))

        def attrs(url: str) -> dict[str, Any]:
            return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "QueueArn", "KmsMasterKeyId", "SqsManagedSseEnabled"]).get("Attributes", {})

        for url, a, exc in ctx.parallel(attrs, urls):
            if exc is not None:
                raise exc
            a = a or {}
            key = a.get("KmsMasterKeyId")
            sse = str(a.get("SqsManagedSseEnabled", "false")).lower() == "true"
            name = url.rstrip("/").rsplit("/", 1)[-1]
            sink.add(ctx.fact(QUEUE, a.get("QueueArn") or ctx.arn("sqs", name, ctx.region), name, {
                "encrypted": bool(key) or sse, "kms_key_id": key, "sqs_managed_sse": sse,
            }))
