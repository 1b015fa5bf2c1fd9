//! The S3 objects of the failure and event archives on moto: listed past a page, read
//! whole, tagged handled keeping their other tags, and a missing one named as not found.

use aws_edge::error::Failure;
use aws_sdk_s3::primitives::ByteStream;
use reprocess::objects::{s3_client, ObjectStore, S3Objects};
use testkit::moto::Moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto from .venv (make venv); make test runs it with --include-ignored"]
async fn objects_are_listed_read_and_tagged_handled_on_s3() {
    let moto = Moto::start();
    let config = testkit::sdk_config(&moto.endpoint).await;
    let s3 = s3_client(&config);
    s3.create_bucket()
        .bucket("failures")
        .send()
        .await
        .expect("bucket");
    // More than one page of ListObjectsV2 (1,000 keys each).
    for n in 0..1_005 {
        s3.put_object()
            .bucket("failures")
            .key(format!("aws/lambda/u/shardId-000000000000/{n:05}"))
            .body(ByteStream::from(format!("body {n}").into_bytes()))
            .send()
            .await
            .expect("put");
    }
    s3.put_object()
        .bucket("failures")
        .key("dead-letters/shardId-000000000000/1")
        .body(ByteStream::from_static(b"claim"))
        .tagging("team=data")
        .send()
        .await
        .expect("put");
    let objects = S3Objects::new(s3.clone(), "RedrivePolicyArn");

    let keys = objects.list("failures", "aws/lambda/").await.unwrap();
    assert_eq!(keys.len(), 1_005);
    assert_eq!(keys[1_004], "aws/lambda/u/shardId-000000000000/01004");
    assert_eq!(objects.get("failures", &keys[7]).await.unwrap(), b"body 7");
    let missing = objects
        .get("failures", "aws/lambda/none")
        .await
        .unwrap_err();
    assert_eq!(missing.failure, Failure::NotFound, "{missing}");

    let claim = "dead-letters/shardId-000000000000/1";
    assert!(!objects.is_handled("failures", claim).await.unwrap());
    objects.mark_handled("failures", claim).await.unwrap();
    assert!(objects.is_handled("failures", claim).await.unwrap());
    let tags = s3
        .get_object_tagging()
        .bucket("failures")
        .key(claim)
        .send()
        .await
        .unwrap();
    let mut tags: Vec<(String, String)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            ("redrive".to_owned(), "handled".to_owned()),
            ("team".to_owned(), "data".to_owned())
        ]
    );
    // Tagging again changes nothing.
    objects.mark_handled("failures", claim).await.unwrap();
    let again = s3
        .get_object_tagging()
        .bucket("failures")
        .key(claim)
        .send()
        .await
        .unwrap();
    assert_eq!(again.tag_set().len(), 2);
}
