//! Bucket notification configuration (Put/Get) and firing `ObjectCreated` events.

use chrono::Utc;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::backend::{Backend, OWNER_PRINCIPAL, RequestContext, context, no_such_bucket};
use crate::notify::rules::is_known_event_pattern;
use crate::notify::{
    CreatedBy, Destination, Notification, ObjectCreated, Rule, event_record, s3_event, test_event,
};

/// What the backend knows about a just-created object, handed to [`Backend::object_created`].
pub(crate) struct Created<'a> {
    pub(crate) created_by: CreatedBy,
    pub(crate) bucket: &'a str,
    pub(crate) key: &'a str,
    pub(crate) size: u64,
    pub(crate) etag: &'a str,
    /// The new version's id, only when the bucket's versioning is enabled.
    pub(crate) version_id: Option<String>,
    pub(crate) rules: Vec<Rule>,
}

fn filter_rules(
    filter: Option<&NotificationConfigurationFilter>,
) -> S3Result<(Option<String>, Option<String>)> {
    let mut prefix = None;
    let mut suffix = None;
    let rules = filter
        .and_then(|f| f.key.as_ref())
        .and_then(|k| k.filter_rules.as_ref());
    for rule in rules.into_iter().flatten() {
        let name = rule
            .name
            .as_ref()
            .map(|n| n.as_str().to_ascii_lowercase())
            .unwrap_or_default();
        let value = rule.value.clone().unwrap_or_default();
        let slot = match name.as_str() {
            "prefix" => &mut prefix,
            "suffix" => &mut suffix,
            other => {
                return Err(s3_error!(
                    InvalidArgument,
                    "filter rule name must be either prefix or suffix, not {other:?}"
                ));
            }
        };
        if slot.replace(value).is_some() {
            return Err(s3_error!(
                InvalidArgument,
                "Cannot specify more than one {name} rule in a filter."
            ));
        }
    }
    Ok((prefix, suffix))
}

fn compile(
    id: &mut Option<String>,
    events: &[Event],
    filter: Option<&NotificationConfigurationFilter>,
    destination: Destination,
) -> S3Result<Rule> {
    let events: Vec<String> = events.iter().map(|e| e.as_ref().to_owned()).collect();
    if events.is_empty() {
        return Err(s3_error!(
            InvalidArgument,
            "A notification configuration must name at least one event."
        ));
    }
    if let Some(unknown) = events.iter().find(|e| !is_known_event_pattern(e)) {
        return Err(s3_error!(
            InvalidArgument,
            "The event is not supported for notifications: {unknown}"
        ));
    }
    let (prefix, suffix) = filter_rules(filter)?;
    // S3 generates an id for entries sent without one and returns it from Get.
    let configuration_id = id.get_or_insert_with(generated_id).clone();
    Ok(Rule {
        configuration_id,
        destination,
        events,
        prefix,
        suffix,
    })
}

fn generated_id() -> String {
    let n: u128 = rand::random();
    let hex = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

impl Backend {
    pub(crate) fn op_put_bucket_notification_configuration(
        &self,
        req: S3Request<PutBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketNotificationConfigurationOutput>> {
        let ctx = context(&req);
        let bucket_name = req.input.bucket;
        let mut config = req.input.notification_configuration;
        let mut rules = Vec::new();
        for c in config.lambda_function_configurations.iter_mut().flatten() {
            let dest = Destination::Lambda {
                function_arn: c.lambda_function_arn.clone(),
            };
            rules.push(compile(&mut c.id, &c.events, c.filter.as_ref(), dest)?);
        }
        for c in config.queue_configurations.iter_mut().flatten() {
            let dest = Destination::Queue {
                queue_arn: c.queue_arn.clone(),
            };
            rules.push(compile(&mut c.id, &c.events, c.filter.as_ref(), dest)?);
        }
        for c in config.topic_configurations.iter_mut().flatten() {
            let dest = Destination::Topic {
                topic_arn: c.topic_arn.clone(),
            };
            rules.push(compile(&mut c.id, &c.events, c.filter.as_ref(), dest)?);
        }
        let mut buckets = self.store.lock();
        let bucket = buckets
            .get_mut(&bucket_name)
            .ok_or_else(|| no_such_bucket(&bucket_name))?;
        bucket.notification = config;
        bucket.rules.clone_from(&rules);
        drop(buckets);
        // Like S3: queues and topics get an `s3:TestEvent` when a configuration is saved.
        for rule in rules
            .iter()
            .filter(|r| !matches!(r.destination, Destination::Lambda { .. }))
        {
            self.notifier.publish(&Notification {
                destination: rule.destination.clone(),
                configuration_id: rule.configuration_id.clone(),
                event: test_event(&bucket_name, Utc::now(), &ctx.request_id, &ctx.host_id),
            });
        }
        Ok(S3Response::new(
            PutBucketNotificationConfigurationOutput::default(),
        ))
    }

    pub(crate) fn op_get_bucket_notification_configuration(
        &self,
        req: S3Request<GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        let name = req.input.bucket;
        let buckets = self.store.lock();
        let config = buckets
            .get(&name)
            .ok_or_else(|| no_such_bucket(&name))?
            .notification
            .clone();
        Ok(S3Response::new(GetBucketNotificationConfigurationOutput {
            event_bridge_configuration: config.event_bridge_configuration,
            lambda_function_configurations: config.lambda_function_configurations,
            queue_configurations: config.queue_configurations,
            topic_configurations: config.topic_configurations,
        }))
    }

    /// Publishes one notification per matching configuration entry for a created object.
    ///
    /// Called after the object is stored (so a subscriber that reacts can already read it).
    pub(crate) fn object_created(&self, ctx: &RequestContext, created: Created<'_>) {
        let event_name = created.created_by.event_name();
        let matching: Vec<&Rule> = created
            .rules
            .iter()
            .filter(|r| r.matches(event_name, created.key))
            .collect();
        if matching.is_empty() {
            return;
        }
        let facts = ObjectCreated {
            created_by: created.created_by,
            region: self.settings.region.clone(),
            bucket: created.bucket.to_owned(),
            key: created.key.to_owned(),
            size: created.size,
            etag: created.etag.to_owned(),
            sequencer: self.notifier.next_sequencer(),
            event_time: Utc::now(),
            principal_id: format!("AWS:{}", self.settings.access_key),
            owner_id: OWNER_PRINCIPAL.to_owned(),
            source_ip: ctx.peer.ip().to_string(),
            request_id: ctx.request_id.clone(),
            host_id: ctx.host_id.clone(),
            version_id: created.version_id.clone(),
        };
        for rule in matching {
            let notification = Notification {
                destination: rule.destination.clone(),
                configuration_id: rule.configuration_id.clone(),
                event: s3_event(vec![event_record(&facts, &rule.configuration_id)]),
            };
            let delivered = self.notifier.publish(&notification);
            tracing::info!(
                bucket = created.bucket,
                key = created.key,
                event = event_name,
                destination = notification.destination.arn(),
                subscribers = delivered,
                "s3 notification published"
            );
        }
    }
}
