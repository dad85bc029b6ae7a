//! AWS adapters and Lambda entry points. The functions in `src/bin` only wire these adapters
//! to the handlers in `leadclock-app`, the same handlers the local server runs.

pub mod config;
pub mod dynamo;
pub mod emf;
pub mod error;
pub mod functions;
pub mod http;
pub mod retry;
pub mod scheduler;
pub mod secrets;
pub mod slack;
pub mod sns;

use leadclock_app::ports::SystemClock;
use leadclock_app::App;

/// The handlers wired to DynamoDB, EventBridge Scheduler and SNS.
pub type AwsApp = App<dynamo::DynamoStore, scheduler::SchedulerTimers, sns::SnsNotifier, SystemClock>;
