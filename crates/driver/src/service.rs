//! The driver's gRPC endpoint: one `Attach` stream per executor, turned into scheduler events.

use std::time::Duration;

use ember_proto::driver_server::Driver as DriverRpc;
use ember_proto::{DriverMessage, ExecutorMessage, Registered, driver_message, executor_message};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::scheduler::Event;

pub(crate) struct DriverService {
    events: mpsc::UnboundedSender<Event>,
    heartbeat_interval: Duration,
}

impl DriverService {
    pub fn new(
        events: mpsc::UnboundedSender<Event>,
        heartbeat_interval: Duration,
    ) -> DriverService {
        DriverService {
            events,
            heartbeat_interval,
        }
    }
}

#[tonic::async_trait]
impl DriverRpc for DriverService {
    type AttachStream = ReceiverStream<Result<DriverMessage, Status>>;

    async fn attach(
        &self,
        request: Request<Streaming<ExecutorMessage>>,
    ) -> Result<Response<Self::AttachStream>, Status> {
        let mut inbound = request.into_inner();
        let register = match inbound.message().await? {
            Some(ExecutorMessage {
                kind: Some(executor_message::Kind::Register(register)),
            }) => register,
            _ => {
                return Err(Status::invalid_argument(
                    "an executor must send Register first",
                ));
            }
        };
        if register.executor_id.is_empty() || register.cores == 0 {
            return Err(Status::invalid_argument(
                "Register needs an executor id and at least one core",
            ));
        }
        let (sender, receiver) = mpsc::channel(1024);
        let registered = DriverMessage {
            kind: Some(driver_message::Kind::Registered(Registered {
                heartbeat_interval_ms: self.heartbeat_interval.as_millis() as u64,
            })),
        };
        sender
            .send(Ok(registered))
            .await
            .map_err(|_| Status::unavailable("the driver is stopping"))?;
        let executor_id = register.executor_id.clone();
        self.events
            .send(Event::Registered {
                executor_id: executor_id.clone(),
                flight_address: register.flight_address,
                cores: register.cores,
                sender,
            })
            .map_err(|_| Status::unavailable("the driver is stopping"))?;
        let events = self.events.clone();
        tokio::spawn(async move {
            let reason = loop {
                match inbound.message().await {
                    Ok(Some(message)) => {
                        let event = match message.kind {
                            Some(executor_message::Kind::Status(status)) => Event::Status {
                                executor_id: executor_id.clone(),
                                status,
                            },
                            Some(executor_message::Kind::Heartbeat(beat)) => Event::Heartbeat {
                                executor_id: executor_id.clone(),
                                peak_memory_bytes: beat.peak_memory_bytes,
                            },
                            _ => continue,
                        };
                        if events.send(event).is_err() {
                            return;
                        }
                    }
                    Ok(None) => break "the executor closed its connection".to_string(),
                    Err(status) => break format!("connection broken: {}", status.message()),
                }
            };
            let _ = events.send(Event::Disconnected {
                executor_id,
                reason,
            });
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}
