// Transport's API speaks Platform's types (TLSTrust for TLS contexts,
// TransportError for failures, WallClock for the node's time): re-exported so
// a user of Transport has them with it.
@_exported import Platform
