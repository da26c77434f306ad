//! Fetching blocks: straight from disk when the block is this process's own, otherwise with an
//! Arrow Flight `DoGet` to the executor that wrote it, presenting the application's secret.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use arrow_flight::Ticket;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_client::FlightServiceClient;
use ember_proto::{AUTH_HEADER, BlockTicket, MAX_MESSAGE_BYTES, MapOutputLocation, Tls, scheme};
use futures::future::BoxFuture;
use futures::{FutureExt, TryStreamExt};
use prost::Message;
use tonic::transport::{Channel, Endpoint};

use crate::blocks::{BlockError, BlockFetcher, map_output_path, read_block};

/// This process's own blocks, read without the network.
#[derive(Debug, Clone)]
pub struct LocalBlocks {
    pub executor_id: String,
    pub root: PathBuf,
}

pub struct FlightFetcher {
    local: Option<LocalBlocks>,
    secret: Arc<str>,
    tls: Option<Tls>,
    clients: Mutex<HashMap<String, FlightServiceClient<Channel>>>,
}

impl fmt::Debug for FlightFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret.
        f.debug_struct("FlightFetcher")
            .field("local", &self.local)
            .finish()
    }
}

impl FlightFetcher {
    pub fn new(local: Option<LocalBlocks>, secret: &str, tls: Option<Tls>) -> FlightFetcher {
        FlightFetcher {
            local,
            secret: secret.into(),
            tls,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn client(&self, address: &str) -> Result<FlightServiceClient<Channel>, BlockError> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = clients.get(address) {
            return Ok(client.clone());
        }
        let unreachable = |e: tonic::transport::Error| BlockError::Unreachable {
            address: address.into(),
            message: e.to_string(),
        };
        let mut endpoint =
            Endpoint::from_shared(format!("{}://{address}", scheme(self.tls.as_ref())))
                .map_err(unreachable)?
                .connect_timeout(Duration::from_secs(5))
                .tcp_nodelay(true);
        if let Some(tls) = &self.tls {
            endpoint = endpoint.tls_config(tls.client()).map_err(unreachable)?;
        }
        let client = FlightServiceClient::new(endpoint.connect_lazy())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        clients.insert(address.to_string(), client.clone());
        Ok(client)
    }
}

impl BlockFetcher for FlightFetcher {
    fn fetch(
        &self,
        location: &MapOutputLocation,
        ticket: BlockTicket,
    ) -> BoxFuture<'static, Result<Vec<RecordBatch>, BlockError>> {
        if let Some(local) = self
            .local
            .as_ref()
            .filter(|l| l.executor_id == location.executor_id)
        {
            let path = map_output_path(
                &local.root,
                ticket.job_id,
                ticket.stage_id,
                ticket.stage_attempt,
                ticket.map_partition,
            );
            let reduce = ticket.reduce_partition as usize;
            return async move {
                tokio::task::spawn_blocking(move || read_block(&path, reduce))
                    .await
                    .map_err(|e| BlockError::Corrupt(e.to_string()))?
            }
            .boxed();
        }
        let address = location.flight_address.clone();
        let client = self.client(&address);
        let secret = self.secret.clone();
        async move {
            let mut client = client?;
            let mut request = tonic::Request::new(Ticket {
                ticket: ticket.encode_to_vec().into(),
            });
            let bearer = ember_proto::bearer(&secret)
                .map_err(|s| BlockError::Refused(s.message().to_string()))?;
            request.metadata_mut().insert(AUTH_HEADER, bearer);
            let response = client
                .do_get(request)
                .await
                .map_err(|status| status_error(&address, status))?;
            let stream = FlightRecordBatchStream::new_from_flight_data(
                response
                    .into_inner()
                    .map_err(|status| FlightError::Tonic(Box::new(status))),
            );
            stream.try_collect().await.map_err(|e| match e {
                FlightError::Tonic(status) => status_error(&address, *status),
                other => BlockError::Corrupt(other.to_string()),
            })
        }
        .boxed()
    }
}

fn status_error(address: &str, status: tonic::Status) -> BlockError {
    match status.code() {
        tonic::Code::NotFound => BlockError::Missing(status.message().to_string()),
        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => {
            BlockError::Refused(status.message().to_string())
        }
        _ => BlockError::Unreachable {
            address: address.to_string(),
            message: status.message().to_string(),
        },
    }
}
