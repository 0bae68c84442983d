public import Hummingbird
public import HummingbirdWebSocket
public import NIOCore

/// The context of every request: Hummingbird's core storage, the WebSocket handler slot,
/// and the connection itself, so that a stream whose client stopped reading can be cut off.
public struct GlassboxRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<GlassboxRequestContext>
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}
