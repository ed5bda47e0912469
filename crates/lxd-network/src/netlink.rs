//! A blocking rtnetlink socket: one request at a time, acknowledged or dumped. The socket
//! belongs to the network namespace of the thread that opened it.

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::{Socket, SocketAddr};

/// Why a netlink request failed.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("Failed to talk to the kernel over netlink")]
    Io(#[from] std::io::Error),
    /// The kernel refused the request with this errno.
    #[error("{}", nix::errno::Errno::from_raw(*.0).desc())]
    Kernel(i32),
    #[error("Failed to decode a netlink message: {0}")]
    Decode(String),
}

impl NetlinkError {
    /// The kernel's errno, when it refused the request.
    pub fn errno(&self) -> Option<nix::errno::Errno> {
        match self {
            Self::Kernel(code) => Some(nix::errno::Errno::from_raw(*code)),
            _ => None,
        }
    }
}

/// An rtnetlink socket in the namespace it was opened in.
pub struct RtSocket {
    socket: Socket,
    seq: u32,
}

const RECV_BUFFER: usize = 64 * 1024;

impl RtSocket {
    /// Open a socket in the calling thread's network namespace.
    pub fn open() -> Result<Self, NetlinkError> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(Self { socket, seq: 0 })
    }

    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> Result<u32, NetlinkError> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut request = NetlinkMessage::new(header, NetlinkPayload::from(message));
        request.finalize();
        let mut buf = vec![0u8; request.buffer_len()];
        request.serialize(&mut buf);
        self.socket.send(&buf, 0)?;
        Ok(self.seq)
    }

    /// Read replies to `seq` until `done` says the exchange is over; `each` sees every inner
    /// message.
    fn receive(
        &mut self,
        seq: u32,
        mut each: impl FnMut(RouteNetlinkMessage),
    ) -> Result<(), NetlinkError> {
        let mut buf = vec![0u8; RECV_BUFFER];
        loop {
            let size = self.socket.recv(&mut &mut buf[..], 0)?;
            let mut offset = 0;
            while offset < size {
                let message: NetlinkMessage<RouteNetlinkMessage> =
                    NetlinkMessage::deserialize(&buf[offset..size])
                        .map_err(|e| NetlinkError::Decode(e.to_string()))?;
                let length = message.header.length as usize;
                if message.header.sequence_number == seq {
                    match message.payload {
                        NetlinkPayload::Done(_) => return Ok(()),
                        NetlinkPayload::Error(err) => {
                            return match err.code {
                                None => Ok(()),
                                Some(code) => Err(NetlinkError::Kernel(-code.get())),
                            }
                        }
                        NetlinkPayload::InnerMessage(inner) => each(inner),
                        _ => {}
                    }
                }
                if length == 0 {
                    break;
                }
                offset += length;
            }
        }
    }

    /// Send a request and wait for the kernel's acknowledgement; returns what it answered
    /// before it (a `GET` of one object answers that object).
    pub fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, NetlinkError> {
        let seq = self.send(message, NLM_F_REQUEST | NLM_F_ACK | flags)?;
        let mut out = Vec::new();
        self.receive(seq, |m| out.push(m))?;
        Ok(out)
    }

    /// Send a dump request and collect every answer.
    pub fn dump(
        &mut self,
        message: RouteNetlinkMessage,
    ) -> Result<Vec<RouteNetlinkMessage>, NetlinkError> {
        let seq = self.send(message, NLM_F_REQUEST | NLM_F_DUMP)?;
        let mut out = Vec::new();
        self.receive(seq, |m| out.push(m))?;
        Ok(out)
    }
}
