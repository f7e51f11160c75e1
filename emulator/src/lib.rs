//! An offline testbed for the forwarder: S3, its notifications, Lambda, and Site24x7.

pub mod generator;
