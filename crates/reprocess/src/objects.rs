//! The S3 objects the failure and event archives keep (docs/design.md, "On-failure
//! records"): listed by prefix, read whole, and marked handled with the tag
//! `contract::archive::HANDLED_TAG_KEY` = `HANDLED_TAG_VALUE`, which the failure archive's
//! lifecycle rule alone may expire. Behind a trait so the tools' runs are tested with
//! [`MemoryObjects`]; [`S3Objects`] is the AWS SDK's.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

use aws_edge::error::{CallError, Failure};
use aws_sdk_s3::types::{Tag, Tagging};
use contract::archive::{HANDLED_TAG_KEY, HANDLED_TAG_VALUE};

/// An S3 client on `config`: path-style addressing on an endpoint of its own (moto's), where
/// bucket host names do not resolve.
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(config.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// A store of objects: S3, or memory in tests.
pub trait ObjectStore {
    /// The keys under `prefix` in `bucket`, in S3's order (ascending UTF-8).
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, CallError>>;

    /// An object's bytes; a missing one is a [`Failure::NotFound`] error.
    fn get(&self, bucket: &str, key: &str) -> impl Future<Output = Result<Vec<u8>, CallError>>;

    /// Whether the object is tagged handled.
    fn is_handled(&self, bucket: &str, key: &str) -> impl Future<Output = Result<bool, CallError>>;

    /// Tags the object handled, keeping its other tags.
    fn mark_handled(&self, bucket: &str, key: &str) -> impl Future<Output = Result<(), CallError>>;
}

/// Whether `tags` (key, value) hold the handled tag.
pub fn handled_in(tags: &[(String, String)]) -> bool {
    tags.iter()
        .any(|(k, v)| k == HANDLED_TAG_KEY && v == HANDLED_TAG_VALUE)
}

/// `tags` with the handled tag set (replacing another value of its key).
pub fn with_handled(tags: &[(String, String)]) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = tags
        .iter()
        .filter(|(k, _)| k != HANDLED_TAG_KEY)
        .cloned()
        .collect();
    tags.push((HANDLED_TAG_KEY.to_owned(), HANDLED_TAG_VALUE.to_owned()));
    tags
}

/// S3 through the AWS SDK.
#[derive(Debug, Clone)]
pub struct S3Objects {
    client: aws_sdk_s3::Client,
    /// The managed policy that allows the calls, named when one is denied.
    policy_output: &'static str,
}

impl S3Objects {
    /// The objects `client` reaches; a denied call names `policy_output` (e.g.
    /// `RedrivePolicyArn`) as what grants it.
    pub fn new(client: aws_sdk_s3::Client, policy_output: &'static str) -> S3Objects {
        S3Objects {
            client,
            policy_output,
        }
    }

    fn denied(&self, err: CallError) -> CallError {
        let hint = format!(
            "the caller needs this S3 call on the bucket and kms:Decrypt on the stack's data key \
             through S3 ({} grants them; docs/access.md)",
            self.policy_output
        );
        err.when_denied(hint)
    }

    async fn tags(&self, bucket: &str, key: &str) -> Result<Vec<(String, String)>, CallError> {
        let got = self
            .client
            .get_object_tagging()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                self.denied(CallError::new(
                    format!("S3 GetObjectTagging({bucket}/{key})"),
                    &e,
                ))
            })?;
        Ok(got
            .tag_set()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect())
    }
}

impl ObjectStore for S3Objects {
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, CallError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    self.denied(CallError::new(
                        format!("S3 ListObjectsV2({bucket}/{prefix})"),
                        &e,
                    ))
                    .when_not_found("check that the stack's bucket exists (make outputs names it)")
                })?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .map(str::to_owned),
            );
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => return Ok(keys),
            }
        }
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, CallError> {
        let call = || format!("S3 GetObject({bucket}/{key})");
        let got = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| self.denied(CallError::new(call(), &e)))?;
        let body = got.body.collect().await.map_err(|e| {
            CallError::with_failure(
                call(),
                Failure::NoAnswer {
                    cause: "connection dropped",
                },
                format!("reading the body: {e}"),
            )
        })?;
        Ok(body.into_bytes().to_vec())
    }

    async fn is_handled(&self, bucket: &str, key: &str) -> Result<bool, CallError> {
        Ok(handled_in(&self.tags(bucket, key).await?))
    }

    async fn mark_handled(&self, bucket: &str, key: &str) -> Result<(), CallError> {
        let call = || format!("S3 PutObjectTagging({bucket}/{key})");
        let tags = with_handled(&self.tags(bucket, key).await?)
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| unbuildable(call(), &e))?;
        let tagging = Tagging::builder()
            .set_tag_set(Some(tags))
            .build()
            .map_err(|e| unbuildable(call(), &e))?;
        self.client
            .put_object_tagging()
            .bucket(bucket)
            .key(key)
            .tagging(tagging)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.denied(CallError::new(call(), &e)))
    }
}

/// An object's tags, (key, value).
type Tags = Vec<(String, String)>;

/// Objects by (bucket, key): their bytes and tags.
type Buckets = BTreeMap<(String, String), (Vec<u8>, Tags)>;

/// A request the SDK's builder refused (a tag without a key): not the service's answer.
fn unbuildable(call: String, err: &dyn std::error::Error) -> CallError {
    let failure = Failure::Service {
        code: String::new(),
        server_side: false,
    };
    CallError::with_failure(call, failure, err.to_string())
}

/// Objects in memory, for the tools' tests: buckets of keys with bytes and tags.
#[derive(Debug, Default)]
pub struct MemoryObjects {
    objects: Mutex<Buckets>,
}

impl MemoryObjects {
    /// Puts (or replaces) an object, untagged.
    pub fn put(&self, bucket: &str, key: &str, body: impl Into<Vec<u8>>) {
        if let Ok(mut objects) = self.objects.lock() {
            objects.insert(
                (bucket.to_owned(), key.to_owned()),
                (body.into(), Vec::new()),
            );
        }
    }

    /// An object's tags, `None` when there is no such object.
    pub fn tags_of(&self, bucket: &str, key: &str) -> Option<Vec<(String, String)>> {
        let objects = self.objects.lock().ok()?;
        objects
            .get(&(bucket.to_owned(), key.to_owned()))
            .map(|(_, tags)| tags.clone())
    }

    /// The keys of `bucket` whose objects are not tagged handled.
    pub fn unhandled(&self, bucket: &str) -> Vec<String> {
        let Ok(objects) = self.objects.lock() else {
            return Vec::new();
        };
        objects
            .iter()
            .filter(|((b, _), (_, tags))| b == bucket && !handled_in(tags))
            .map(|((_, key), _)| key.clone())
            .collect()
    }

    fn not_found(call: &str, bucket: &str, key: &str) -> CallError {
        CallError::with_failure(
            format!("S3 {call}({bucket}/{key})"),
            Failure::NotFound,
            "NoSuchKey: The specified key does not exist.",
        )
    }
}

impl ObjectStore for MemoryObjects {
    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, CallError> {
        let objects = self
            .objects
            .lock()
            .map_err(|_| Self::not_found("ListObjectsV2", bucket, prefix))?;
        Ok(objects
            .keys()
            .filter(|(b, k)| b == bucket && k.starts_with(prefix))
            .map(|(_, k)| k.clone())
            .collect())
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, CallError> {
        let objects = self
            .objects
            .lock()
            .map_err(|_| Self::not_found("GetObject", bucket, key))?;
        objects
            .get(&(bucket.to_owned(), key.to_owned()))
            .map(|(body, _)| body.clone())
            .ok_or_else(|| Self::not_found("GetObject", bucket, key))
    }

    async fn is_handled(&self, bucket: &str, key: &str) -> Result<bool, CallError> {
        self.tags_of(bucket, key)
            .map(|tags| handled_in(&tags))
            .ok_or_else(|| Self::not_found("GetObjectTagging", bucket, key))
    }

    async fn mark_handled(&self, bucket: &str, key: &str) -> Result<(), CallError> {
        let mut objects = self
            .objects
            .lock()
            .map_err(|_| Self::not_found("PutObjectTagging", bucket, key))?;
        let (_, tags) = objects
            .get_mut(&(bucket.to_owned(), key.to_owned()))
            .ok_or_else(|| Self::not_found("PutObjectTagging", bucket, key))?;
        *tags = with_handled(tags);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn the_handled_tag_is_added_keeping_the_others() {
        let tags = vec![tag("team", "data"), tag(HANDLED_TAG_KEY, "no")];
        assert!(!handled_in(&tags));
        let marked = with_handled(&tags);
        assert_eq!(marked, [tag("team", "data"), tag("redrive", "handled")]);
        assert!(handled_in(&marked));
    }

    #[tokio::test]
    async fn memory_objects_list_by_prefix_and_keep_their_tags() {
        let store = MemoryObjects::default();
        store.put("b", "aws/lambda/u/1", "one");
        store.put("b", "aws/lambda/u/2", "two");
        store.put("b", "events/x", "three");
        store.put("other", "aws/lambda/u/3", "four");
        assert_eq!(
            store.list("b", "aws/lambda/").await.unwrap(),
            ["aws/lambda/u/1", "aws/lambda/u/2"]
        );
        assert_eq!(store.get("b", "events/x").await.unwrap(), b"three");
        let missing = store.get("b", "nope").await.unwrap_err();
        assert_eq!(missing.failure, Failure::NotFound);
        assert!(!store.is_handled("b", "aws/lambda/u/1").await.unwrap());
        store.mark_handled("b", "aws/lambda/u/1").await.unwrap();
        assert!(store.is_handled("b", "aws/lambda/u/1").await.unwrap());
        assert_eq!(store.unhandled("b"), ["aws/lambda/u/2", "events/x"]);
    }
}
