//! The buckets' sink on the AWS SDK: one `PutObject` per call.
//!
//! The request carries no encryption headers: the bucket's default encryption (SSE-KMS
//! with the stack's key) applies, which is what the role's `kms:GenerateDataKey` is for.
//! The SDK makes one attempt (the function's SDK configuration); the retries within the
//! invocation's deadline are the store's, as for the table and the queue.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures_util::future::BoxFuture;

use super::{ObjectStore, SinkError};

/// Stores objects in one bucket.
#[derive(Debug, Clone)]
pub struct S3Bucket {
    client: Client,
    bucket: String,
}

impl S3Bucket {
    /// A sink for `bucket` using a client built once at init.
    pub fn new(client: Client, bucket: String) -> S3Bucket {
        S3Bucket { client, bucket }
    }
}

impl ObjectStore for S3Bucket {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        body: &'a [u8],
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(key)
                .content_type(content_type)
                .body(ByteStream::from(body.to_vec()))
                .send()
                .await
                .map_err(super::classify_sdk_error)?;
            Ok(())
        })
    }

    fn put_new<'a>(
        &'a self,
        key: &'a str,
        body: &'a [u8],
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<bool, SinkError>> {
        Box::pin(async move {
            let sent = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(key)
                .content_type(content_type)
                .if_none_match("*")
                .body(ByteStream::from(body.to_vec()))
                .send()
                .await;
            match sent {
                Ok(_) => Ok(true),
                Err(err) => match conditional_answer(&err) {
                    Some(answer) => answer,
                    None => Err(super::classify_sdk_error(err)),
                },
            }
        })
    }
}

/// What S3's answers to a conditional write mean: 412 `PreconditionFailed`, an object is
/// there already (kept, as asked); 409 `ConditionalRequestConflict`, another write of the key
/// is under way (S3 says to retry). Anything else is classified as every SDK error.
fn conditional_answer<E, R>(err: &SdkError<E, R>) -> Option<Result<bool, SinkError>>
where
    E: ProvideErrorMetadata,
{
    let code = err.as_service_error()?.code()?;
    match code {
        "PreconditionFailed" => Some(Ok(false)),
        "ConditionalRequestConflict" => Some(Err(SinkError::Retryable(format!(
            "{code}: another write of the same key is under way"
        )))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::operation::put_object::PutObjectError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError, ServiceError};
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::conditional_answer;
    use crate::sinks::{classify_sdk_error, SinkError};

    fn answer(status: u16, code: &str) -> SdkError<PutObjectError, HttpResponse> {
        let meta = ErrorMetadata::builder()
            .code(code)
            .message("from the test")
            .build();
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::ServiceError(
            ServiceError::builder()
                .source(PutObjectError::generic(meta))
                .raw(raw)
                .build(),
        )
    }

    /// S3's own answers sorted as the table's and the queue's are: slow-downs, its
    /// failures and lost connections are retried; a bucket that is missing or refuses the
    /// role (or its KMS key) is not, and the records stay unhandled for Lambda.
    #[test]
    fn put_object_errors_are_retryable_or_fatal_as_s3_means_them() {
        let retryable = |err| matches!(classify_sdk_error(err), SinkError::Retryable(_));
        assert!(retryable(answer(503, "SlowDown")));
        assert!(retryable(answer(500, "InternalError")));
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(retryable(SdkError::dispatch_failure(ConnectorError::io(
            Box::new(io)
        ))));
        assert!(!retryable(answer(404, "NoSuchBucket")));
        assert!(!retryable(answer(403, "AccessDenied")));
        assert!(!retryable(answer(400, "KMS.DisabledException")));
    }

    /// A conditional write that finds the object is not a failure: the object is kept.
    #[test]
    fn a_conditional_write_that_finds_the_object_keeps_it() {
        assert_eq!(
            conditional_answer(&answer(412, "PreconditionFailed")),
            Some(Ok(false))
        );
        assert!(matches!(
            conditional_answer(&answer(409, "ConditionalRequestConflict")),
            Some(Err(SinkError::Retryable(_)))
        ));
        assert_eq!(conditional_answer(&answer(503, "SlowDown")), None);
    }
}
