//! Serves this executor's blocks over Arrow Flight `DoGet`; every other Flight call is refused.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaResult, Ticket,
};
use ember_plan::{BlockError, ipc_messages, map_output_path, read_block_encoded};
use ember_proto::{BlockTicket, MAX_MESSAGE_BYTES, require_secret};
use futures::{Stream, StreamExt};
use prost::Message;
use tonic::service::interceptor::InterceptedService;
use tonic::{Request, Response, Status, Streaming};

type BoxedStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

pub(crate) struct BlockServer {
    root: PathBuf,
}

impl BlockServer {
    pub fn new(root: PathBuf) -> BlockServer {
        BlockServer { root }
    }

    pub fn into_service(
        self,
        secret: Arc<str>,
    ) -> InterceptedService<
        FlightServiceServer<BlockServer>,
        impl tonic::service::Interceptor + Clone,
    > {
        let server = FlightServiceServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        InterceptedService::new(server, require_secret(secret, "flight"))
    }
}

fn unsupported<T>() -> Result<T, Status> {
    Err(Status::unimplemented(
        "Ember executors only serve blocks through DoGet",
    ))
}

#[tonic::async_trait]
impl FlightService for BlockServer {
    type HandshakeStream = BoxedStream<HandshakeResponse>;
    type ListFlightsStream = BoxedStream<FlightInfo>;
    type DoGetStream = BoxedStream<FlightData>;
    type DoPutStream = BoxedStream<PutResult>;
    type DoActionStream = BoxedStream<arrow_flight::Result>;
    type ListActionsStream = BoxedStream<ActionType>;
    type DoExchangeStream = BoxedStream<FlightData>;

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        let ticket = BlockTicket::decode(request.into_inner().ticket)
            .map_err(|e| Status::invalid_argument(format!("bad block ticket: {e}")))?;
        let path = map_output_path(
            &self.root,
            ticket.job_id,
            ticket.stage_id,
            ticket.stage_attempt,
            ticket.map_partition,
        );
        let reduce = ticket.reduce_partition as usize;
        let encoded = tokio::task::spawn_blocking(move || read_block_encoded(&path, reduce))
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(|e| match e {
                BlockError::Missing(m) => Status::not_found(m),
                other => Status::internal(other.to_string()),
            })?;
        // The block goes out as stored: its IPC messages, still compressed, never decoded here.
        let messages = ipc_messages(encoded.into()).map_err(|e| Status::internal(e.to_string()))?;
        let stream = futures::stream::iter(messages.into_iter().map(|(header, body)| {
            Ok(FlightData {
                data_header: header,
                data_body: body,
                ..FlightData::default()
            })
        }));
        Ok(Response::new(stream.boxed()))
    }

    async fn handshake(
        &self,
        _: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        unsupported()
    }
    async fn list_flights(
        &self,
        _: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        unsupported()
    }
    async fn get_flight_info(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        unsupported()
    }
    async fn poll_flight_info(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        unsupported()
    }
    async fn get_schema(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        unsupported()
    }
    async fn do_put(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        unsupported()
    }
    async fn do_action(
        &self,
        _: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        unsupported()
    }
    async fn list_actions(
        &self,
        _: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        unsupported()
    }
    async fn do_exchange(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        unsupported()
    }
}
