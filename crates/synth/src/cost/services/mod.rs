//! One module per billed service, each turning the month's [`Context`] into line items and
//! the assumptions behind them.

pub mod aggregates;
pub mod cloudwatch;
pub mod codedeploy;
pub mod dynamodb;
pub mod insights;
pub mod kinesis;
pub mod kms;
pub mod lambda;
pub mod s3;
pub mod sqs;
pub mod vpc;

use super::inventory::Inventory;
use super::prices::Prices;
use super::workload::Workload;
use crate::config::Config;

/// Everything a service's estimate reads.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The stack's configuration.
    pub config: &'a Config,
    /// The month of traffic.
    pub workload: &'a Workload,
    /// What the template holds.
    pub inventory: &'a Inventory,
    /// Unit prices.
    pub prices: &'a Prices,
}
