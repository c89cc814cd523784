import CCurl
import CCurlShims
import Foundation
import Synchronization

/// One libcurl multi handle, driven by its own thread.
///
/// Why a thread: libcurl's multi interface waits in `curl_multi_poll`, which blocks; doing that on
/// Swift's cooperative pool would starve other tasks. Senders hand a `CurlTransfer` over through a
/// locked command queue and `curl_multi_wakeup`; the thread resumes their continuations when done.
/// The multi handle keeps the connection cache, so connections to a host are kept alive and reused
/// across requests; finished easy handles are reset and reused too.
///
/// Thread-safety: `submit`, `cancel` and `shutdown` may be called from any thread; everything else
/// runs on the engine thread.
final class CurlMultiEngine: @unchecked Sendable {
    private enum Command {
        case add(CurlTransfer)
        case cancel(CurlTransfer)
    }

    private struct Shared {
        var commands: [Command] = []
        var stopping = false
    }

    private let multi: UnsafeMutableRawPointer
    private let shared = Mutex(Shared())
    private let finished = DispatchSemaphore(value: 0)
    /// Weak: a running `Thread` keeps itself alive, and its closure holds this engine; a strong reference
    /// back would keep both (and the multi handle's bookkeeping) for ever after `shutdown`.
    private weak var thread: Thread?

    // Engine thread only.
    private var running: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []
    private static let maxIdleHandles = 32

    /// Creates the multi handle and starts the engine thread.
    init(maxConnectionsPerHost: Int) {
        LibCurl.ensureInitialized()
        guard let multi = curl_multi_init() else {
            fatalError("curl_multi_init failed: out of memory")
        }
        self.multi = multi
        _ = promobot_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(0, maxConnectionsPerHost))
        // Room to keep idle connections of a burst alive rather than closing them.
        _ = promobot_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 64)
        let thread = Thread { [self] in self.runLoop() }
        thread.name = "promobot.curl"
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    /// Queues `transfer`; its continuation is resumed when it finishes, fails or is cancelled.
    func submit(_ transfer: CurlTransfer) {
        let rejected: (any Error)? = shared.withLock { state in
            if transfer.cancelRequested { return CancellationError() }
            if state.stopping {
                return TransportFailure(kind: .other, message: "the HTTP client was shut down", curlCode: nil)
            }
            state.commands.append(.add(transfer))
            return nil
        }
        if let rejected { transfer.fail(rejected) } else { curl_multi_wakeup(multi) }
    }

    /// Aborts `transfer` if it is queued or running; its sender gets `CancellationError`.
    func cancel(_ transfer: CurlTransfer) {
        shared.withLock { state in
            transfer.cancelRequested = true
            state.commands.append(.cancel(transfer))
        }
        curl_multi_wakeup(multi)
    }

    /// Stops the thread and frees every handle; waits (briefly) until that is done, so the handles
    /// are gone when this returns. Transfers still running fail.
    func shutdown() {
        shared.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
        if Thread.current != thread { finished.wait() }
    }

    // MARK: - Engine thread

    private func runLoop() {
        var stillRunning: Int32 = 0
        while true {
            let (commands, stopping) = shared.withLock { state in
                defer { state.commands.removeAll(keepingCapacity: true) }
                return (state.commands, state.stopping)
            }
            for command in commands {
                switch command {
                case .add(let transfer): start(transfer)
                case .cancel(let transfer): abort(transfer, with: CancellationError())
                }
            }
            if stopping { break }
            curl_multi_perform(multi, &stillRunning)
            collectFinished()
            // Returns early on socket activity, libcurl's own timers, or curl_multi_wakeup.
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        for transfer in Array(running.values) {
            abort(transfer, with: TransportFailure(kind: .other, message: "the HTTP client was shut down", curlCode: nil))
        }
        for easy in idleHandles { curl_easy_cleanup(easy) }
        idleHandles.removeAll()
        curl_multi_cleanup(multi)
        finished.signal()
    }

    private func start(_ transfer: CurlTransfer) {
        if shared.withLock({ _ in transfer.cancelRequested }) {
            transfer.fail(CancellationError())
            return
        }
        guard let easy = idleHandles.popLast() ?? curl_easy_init() else {
            transfer.fail(TransportFailure(kind: .other, message: "curl_easy_init failed: out of memory", curlCode: nil))
            return
        }
        if let failure = transfer.configure(easy) {
            recycle(easy)
            transfer.fail(failure)
            return
        }
        let rc = curl_multi_add_handle(multi, easy)
        guard rc == CURLM_OK else {
            recycle(easy)
            transfer.fail(TransportFailure(
                kind: .other, message: "curl_multi_add_handle: \(String(cString: curl_multi_strerror(rc)))",
                curlCode: nil))
            return
        }
        running[easy] = transfer
    }

    private func abort(_ transfer: CurlTransfer, with error: any Error) {
        guard let easy = running.first(where: { $0.value === transfer })?.key else { return }
        running[easy] = nil
        curl_multi_remove_handle(multi, easy)
        withExtendedLifetime(transfer) {
            transfer.fail(error)
            recycle(easy)
        }
    }

    private func collectFinished() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result  // read before remove_handle invalidates `message`
            curl_multi_remove_handle(multi, easy)
            guard let transfer = running.removeValue(forKey: easy) else {
                curl_easy_cleanup(easy)
                continue
            }
            withExtendedLifetime(transfer) {
                transfer.complete(easy: easy, code: code)
                recycle(easy)
            }
        }
    }

    /// Resets `easy` (which keeps libcurl's caches but drops every option pointing at the finished
    /// transfer's buffers) and keeps a few for reuse.
    private func recycle(_ easy: UnsafeMutableRawPointer) {
        curl_easy_reset(easy)
        if idleHandles.count < Self.maxIdleHandles {
            idleHandles.append(easy)
        } else {
            curl_easy_cleanup(easy)
        }
    }
}
