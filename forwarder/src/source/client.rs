//! Building the one S3 client: the switch between the testbed and production.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Credentials, Intercept};
use aws_sdk_s3::operation::delete_object::DeleteObjectInput;
use aws_sdk_s3::operation::get_object::GetObjectInput;
use aws_sdk_s3::operation::head_object::HeadObjectInput;
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Input;
use aws_sdk_s3::operation::put_object::PutObjectInput;

use crate::limits::{validate_bucket, validate_key_len, validate_object};
use crate::secret::Secret;

/// Region used with a custom endpoint when none is given (emulators ignore it,
/// but SigV4 signing needs one).
pub const DEFAULT_TESTBED_REGION: &str = "us-east-1";

/// How to reach S3: from the CLI flags (`--endpoint-url` …) or the environment.
///
/// `endpoint_url` is **the switch between the testbed and production**: with it,
/// the client talks to that URL (the emulator, moto) with static credentials and
/// path-style addressing; without it, the client is real AWS with the default
/// credential chain (environment, profile, web identity, ECS/Lambda role, IMDS).
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    /// `--endpoint-url`: a local or alternative S3 endpoint; `None` means real AWS.
    pub endpoint_url: Option<String>,
    /// Region; with an endpoint it defaults to `us-east-1`, without one the
    /// default chain decides (`AWS_REGION`, profile, Lambda's environment).
    pub region: Option<String>,
    /// Access key id for a custom endpoint (falls back to `AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// Secret key for a custom endpoint (falls back to `AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: Option<Secret>,
    /// Path-style addressing (`http://host/bucket/key`). Always on with an
    /// endpoint URL, since `bucket.127.0.0.1` cannot resolve.
    pub force_path_style: bool,
}

impl S3Settings {
    /// Settings for a local S3 (emulator, moto) with the given static keys.
    pub fn testbed(endpoint_url: impl Into<String>, access_key_id: &str, secret: &str) -> Self {
        Self {
            endpoint_url: Some(endpoint_url.into()),
            region: None,
            access_key_id: Some(access_key_id.to_owned()),
            secret_access_key: Some(Secret::new(secret)),
            force_path_style: true,
        }
    }
}

/// Why the S3 client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A custom endpoint needs explicit keys: the default chain would look for
    /// real AWS credentials (and may hang on IMDS) for a local server.
    #[error(
        "S3 endpoint {endpoint}: no credentials: pass --access-key-id and --secret-access-key \
         or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values work for moto)"
    )]
    MissingCredentials {
        /// The endpoint URL given.
        endpoint: String,
    },
}

/// Builds the S3 client once per process (clients are cheap to clone and share
/// a connection pool).
///
/// With `settings.endpoint_url`: static credentials (settings, else the
/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` environment variables),
/// path-style addressing, region `settings.region` or `us-east-1`.
/// Without it: `aws_config::defaults(BehaviorVersion::latest())`, the default
/// credential chain and real AWS (region from settings, else the chain).
///
/// # Errors
/// [`ClientError::MissingCredentials`] when an endpoint is given without keys.
pub async fn build_client(settings: &S3Settings) -> Result<Client, ClientError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(endpoint) = &settings.endpoint_url {
        let access = settings
            .access_key_id
            .clone()
            .or_else(|| std::env::var("AWS_ACCESS_KEY_ID").ok());
        let secret = settings
            .secret_access_key
            .clone()
            .or_else(|| std::env::var("AWS_SECRET_ACCESS_KEY").ok().map(Secret::new));
        let (Some(access), Some(secret)) = (access, secret) else {
            return Err(ClientError::MissingCredentials {
                endpoint: endpoint.clone(),
            });
        };
        let region = settings
            .region
            .clone()
            .unwrap_or_else(|| DEFAULT_TESTBED_REGION.to_owned());
        loader = loader
            .endpoint_url(endpoint)
            .region(Region::new(region))
            .credentials_provider(Credentials::new(
                access,
                secret.expose(),
                None,
                None,
                "flowlog-forwarder-static",
            ));
    } else if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let shared = loader.load().await;
    let path_style = settings.force_path_style || settings.endpoint_url.is_some();
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(path_style)
        .interceptor(ObjectNameGuard)
        .build();
    Ok(Client::from_conf(config))
}

/// Refuses every request of this client whose bucket or key S3 cannot have, before the SDK
/// builds it ([`validate_object`]): the SDK panics on a URI over 64 KiB, and S3 would refuse
/// the rest. The refusal is a construction failure, which the GetObject retry treats as an
/// invalid request (never retried).
#[derive(Debug)]
struct ObjectNameGuard;

impl Intercept for ObjectNameGuard {
    fn name(&self) -> &'static str {
        "ObjectNameGuard"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let input = context.input();
        let object = |bucket: Option<&str>, key: Option<&str>| match (bucket, key) {
            (Some(bucket), Some(key)) => validate_object(bucket, key),
            _ => Ok(()),
        };
        let checked = if let Some(i) = input.downcast_ref::<GetObjectInput>() {
            object(i.bucket(), i.key())
        } else if let Some(i) = input.downcast_ref::<HeadObjectInput>() {
            object(i.bucket(), i.key())
        } else if let Some(i) = input.downcast_ref::<PutObjectInput>() {
            object(i.bucket(), i.key())
        } else if let Some(i) = input.downcast_ref::<DeleteObjectInput>() {
            object(i.bucket(), i.key())
        } else if let Some(i) = input.downcast_ref::<ListObjectsV2Input>() {
            i.bucket().map_or(Ok(()), |bucket| {
                validate_bucket(bucket)
                    .and_then(|()| validate_key_len(bucket, i.prefix().unwrap_or_default()))
            })
        } else {
            Ok(())
        };
        checked.map_err(Into::into)
    }
}
