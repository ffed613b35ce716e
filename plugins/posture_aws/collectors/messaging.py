"""SNS topics and SQS queues: encryption at rest (attributes read per resource, concurrently)."""

from __future__ import annotations

from typing import Any

from posture_aws.collectors import collector
from posture_aws.context import AwsContext

TOPIC, QUEUE = "aws.sns.topic", "aws.sqs.queue"


@collector("sns", level="region", facts={
    "aws.sns.topic": 'SNS topics: encryption at rest',
})
def collect_topics(ctx: AwsContext) -> None:
    with ctx.feeding(TOPIC):
        sns = ctx.client("sns")
        arns = [t["TopicArn"] for t in ctx.pages(sns, "list_topics", "Topics")]
        for arn, attrs, exc in ctx.parallel(lambda a: sns.get_topic_attributes(TopicArn=a)["Attributes"], arns):
            if exc is not None:
                raise exc
            key = (attrs or {}).get("KmsMasterKeyId")
            ctx.add(TOPIC, arn, arn.rsplit(":", 1)[-1], None, {
                "encrypted": bool(key), "kms_key_id": key,
                "aws_managed_key": bool(key) and key.startswith("alias/aws/"),
            })


@collector("sqs", level="region", facts={
    "aws.sqs.queue": 'SQS queues: encryption at rest',
})
def collect_queues(ctx: AwsContext) -> None:
    with ctx.feeding(QUEUE):
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
            ctx.add(QUEUE, a.get("QueueArn") or ctx.arn("sqs", name, ctx.region), name, None, {
                "encrypted": bool(key) or sse, "kms_key_id": key, "sqs_managed_sse": sse,
            })
