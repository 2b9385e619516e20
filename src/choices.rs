//! Where ws2sim decides what the seed documents leave open: every model choice in one
//! list, so that a reader can tell the documents from the simulator
//! (`ws2sim explain --model-choices`). Contracts that rest on a choice say so in their
//! own row of the contract table too.

/// One place where the simulator, not a seed document, decides.
pub struct ModelChoice {
    /// What it is about.
    pub topic: &'static str,
    /// What ws2sim does there.
    pub choice: &'static str,
}

pub const MODEL_CHOICES: &[ModelChoice] = &[
    ModelChoice {
        topic: "NSPv2 hosting",
        choice: "An NSPv2 provider runs in the process that advertises it; each client process has one session there at a time, opened by NSPv2Startup at its first lookup (again after a final WSACleanup ended the last one) and ended once, by NSPv2Cleanup at its final WSACleanup or by NSPv2ClientSessionRundown when it ends without one or its host withdraws the provider. A host's final WSACleanup ends its advertisements as WSAUnadvertiseProvider would, and gives back the load of the provider's DLL that each one's Advertise step took, as an Unadvertise step does; a session that opens while its host withdraws the provider is run down at once, like the others. The host serves its requests in the order they came, and a session stays in its table until the host runs its end: a lookup asked for just before the final WSACleanup is served on the open session. A final WSACleanup ends the sessions and advertisements there were when its count reached 0 (one another thread is withdrawing included: the clean-up returns once that withdrawal is over), not those of a WSAStartup another thread made meanwhile; and a provider whose withdrawal is still under way is still advertised (WSAAdvertiseProvider fails with WSAEINVAL until it is over: until its RPC thread has stopped, which may be before the WSAUnadvertiseProvider or WSACleanup that withdrew it returns; what is advertised since is not that withdrawal's to end).",
    },
    ModelChoice {
        topic: "WSAStartup versions",
        choice: "WSAStartup accepts the versions 2.0 to 2.2 and fails any other with WSAVERNOTSUPPORTED. Windows also accepts 1.x and answers a request above 2.2 with 2.2; no clean-up rule depends on the version, so scenarios keep to the three that matter.",
    },
    ModelChoice {
        topic: "Layered sockets",
        choice: "A layered provider passes sockets through: the application holds the base provider's handle, so send, receive and close reach the base provider directly. A provider with no base entry therefore owns no sockets: its final clean-up resets none and cancels none of their calls (the base provider's final clean-up does), and the knobs on what a clean-up does to sockets change nothing in it (the run header says so).",
    },
    ModelChoice {
        topic: "Protocol chains",
        choice: "A layered provider passes the chain it was handed on to the layer below, and a layer finds the next one down by where its provider stands in that chain; the base is handed its own entry. The entries in between are layered entries of the chain's protocol whose own chains play no part, and no provider stands twice in one chain. Across the catalog the layers go one way: a ring of providers, each over the next in some chain, is refused, since none of their counts could reach zero. A layer whose WSPStartup fails because the one below it failed passes that code up when WSPStartup documents it, and WSASYSNOTREADY otherwise (so for a lower layer's WSA_NOT_ENOUGH_MEMORY, which WSPStartup's page does not list).",
    },
    ModelChoice {
        topic: "A failed lower start-up in WSPSocket",
        choice: "When a layered provider's WSPSocket starts the layer below itself (a chain other than the one it started for) and that start-up fails, WSPSocket fails with WSAENETDOWN, a code WSPSocket documents, whatever the lower WSPStartup returned. That start-up runs under the provider's lock, as its WSPStartup and WSPCleanup do: a final WSPCleanup that comes after it tears it down with the others, and once the final WSPCleanup has begun, WSPSocket starts nothing below and fails with WSAENETDOWN.",
    },
    ModelChoice {
        topic: "Direct SPI start-up of an LSP",
        choice: "A `Spi` WSPStartup on a layered provider names no catalog entry, so it starts no layer below; the layer below starts with the LSP's first WSPSocket.",
    },
    ModelChoice {
        topic: "The provider's lock",
        choice: "The conforming transport model serialises WSPStartup and WSPCleanup with a lock (a critical section in the DLL); `refcount: Racy` has none.",
    },
    ModelChoice {
        topic: "Blocking sends",
        choice: "A blocking send hands its bytes to the kernel socket and returns at once, as a blocking send with room in its socket's send buffer does; the network delivers them after the step's `completes` delay, and a socket the final clean-up resets loses what it still holds. With `completes: Never` the buffer takes nothing and the send waits, as one on a full buffer does, until something cancels it (or forever). Every other blocking call (a receive, a connect, an accept) waits for its operation to complete.",
    },
    ModelChoice {
        topic: "Cancelled blocking calls",
        choice: "A blocking call cancelled by the final WSPCleanup returns SOCKET_ERROR with WSAEINTR, as one cancelled by WSACancelBlockingCall does; seed 003 names no code.",
    },
    ModelChoice {
        topic: "Operations issued during a final clean-up",
        choice: "Once a provider's final WSPCleanup has begun, every pending operation is its to cancel, those issued while it runs included: a SAN provider frees each one's memory and completes it through WPUCompleteOverlappedRequest until none is left; a transport provider aborts those issued while its switch cleaned up before it resets their sockets.",
    },
    ModelChoice {
        topic: "The network and a final clean-up",
        choice: "An operation is completed or aborted, never both. One the network completes before the provider's final clean-up begins is the network's, notifications included. That clean-up begins when a WSPCleanup brings the count to zero, under the provider's lock, not at the call (a completion may come between a WSPCleanup's call line and its count, as between any two steps); from then until that WSPCleanup returns the network completes none of the provider's operations in the process: each waits, then finds its operation aborted, or completes one issued after the clean-up's last pass.",
    },
    ModelChoice {
        topic: "API calls racing the final WSACleanup",
        choice: "A call that passed its \"initialised\" check before another thread's final WSACleanup began runs on. Such a call keeps every provider DLL of the process loaded until it returns: ws2_32's own FreeLibrary at the final WSACleanup, a layered provider's of the layer below and the switch's of a SAN provider at their final clean-up wait for every such call but the one that unloads, whose thread runs none of that DLL's code (the trace says \"stays loaded\"; they are unloaded once no API call of the process is under way, one that began meanwhile included, by ws2_32 as the last such call ends: that FreeLibrary is no longer the code of the provider that deferred it, which may be unloaded first), so that a thread the clean-up released returns out of the provider's code before the DLL goes; and the call starts nothing more: a provider it started (WSPStartup, NSPStartup, or the switch's WSPStartupEx) after the clean-up began it cleans up again itself, and an NSPv2 session its lookup opened after the clean-up began it ends itself with NSPv2Cleanup (that clean-up took only the sessions open when it began), unless the session's end is another's by then (a later final WSACleanup took it, the process started Winsock again, so that the session is that start's, served to its lookups and ended by its final WSACleanup, or the host is withdrawing the provider). When in its call a host's withdrawal (WSAUnadvertiseProvider, or the host's final WSACleanup) takes the sessions is not in the trace, so `ws2.balanced` judges a session the lookup left open by how it ends: run down because the client process ended, cleaned up by a final WSACleanup that began after the lookup returned, or run down by its host or gone with it where the withdrawal that ended it was called after the lookup returned, it was the lookup's to end; a withdrawal called before then may have taken it first, and the lookup is not flagged. The withdrawal that ended it is the host's WSAUnadvertiseProvider of the provider under way that succeeds (it found the provider still advertised, so the withdrawal began in it), else the earliest of the host's final WSACleanup calls under way that began since the provider was last advertised and its WSAUnadvertiseProvider calls of it since then that never returned. Such a call fails with WSANOTINITIALISED whether it started a provider or not, since the clean-up forgot what ws2_32 kept for it: what it made before that (a socket, the handles of a lookup's NSPLookupServiceBegin calls that succeeded) is the clean-up's, dropped with no WSPCloseSocket or NSPLookupServiceEnd as the handles a final WSACleanup drops are, and freed by the provider's final WSPCleanup or NSPCleanup. A provider refuses socket calls once its last start-up is cleaned up, and new sockets once its final WSPCleanup has begun, with WSAENETDOWN (no SPI socket function documents WSANOTINITIALISED); a version-1 namespace provider refuses lookup routines likewise, each with a code its own page lists (NSPLookupServiceBegin with WSAEINVAL, Next and End with WSA_INVALID_HANDLE, the handle being freed), and an NSPLookupServiceNext its final NSPCleanup overtook while it ran fails with WSA_E_CANCELLED, as one NSPLookupServiceEnd cancels does; WSALookupServiceNext and End fail with WSANOTINITIALISED when a final WSACleanup began while they ran, as any such call does; a lookup handle made before a final WSACleanup is refused with WSA_INVALID_HANDLE after Winsock starts again.",
    },
    ModelChoice {
        topic: "Direct SPI calls that end what they did not start",
        choice: "A provider cannot tell its SPI clients apart (WSPCleanup and NSPCleanup name none): a `Spi` WSPCleanup or NSPCleanup with no start-up of its own outstanding counts down what another client (ws2_32, a layer, the switch) started, and what that client meets afterwards is checked as usual. The call itself is the caller's error (seed 002: NSPStartup \"must be called successfully before using any namespace providers\"; seed 003: the SPI client \"is required to perform a successful WSPStartup call before it can use Winsock service providers\"): an NSPCleanup is flagged under `nsp.cleanup.refcount`, and a WSPCleanup under `wsp.cleanup.refcount` (`san.cleanup.refcount` for a SAN provider) when it counts down another client's start-up. A WSPCleanup with nothing at all started in the process is not flagged: seeds 003 and 004 document the provider's answer to it (004 names it WSANOTINITIALISED; 003's table gives its meaning, \"A successful WSPStartup call must occur before using this function.\"; `wsp.cleanup.not_initialised`), while NSPCleanup documents no such error. An NSPv2Cleanup or NSPv2ClientSessionRundown for a session the process never opened passes an argument the provider does not know: the conforming provider answers WSAEINVAL, and the step is flagged under the NSPv2 session contracts as the client that broke the rule.",
    },
    ModelChoice {
        topic: "Completion routines",
        choice: "A completion routine runs when its operation completes, in the thread that issued it: there is no alertable wait, so it runs even while that thread is inside another call, WSPCleanup included: an operation that completes there completed before the actual clean-up began (seed 003 cancels only what is still pending then), or the provider breaks `wsp.cleanup.overlapped_aborted`. A thread whose steps are done has ended, and a routine due to it then is not run (the trace says so). The operation itself goes on to complete: Windows cancels the I/O a thread issued when the thread exits (the WSASend and WSARecv pages note it), which ws2sim does not model; the seeds say nothing of it.",
    },
    ModelChoice {
        topic: "Thread-pool callbacks",
        choice: "A callback a provider queues to the thread pool (from DllMain, or through `Spi::defer_to_thread_pool`) runs in a pool thread either at once, anywhere among the steps still to run in its tick (the return of the call that queued it included), or one tick later: a choice each schedule makes, as it makes the scheduler's. A process that has ended by then runs none of them (its end reclaims what the ledger held for them).",
    },
    ModelChoice {
        topic: "ws2_32's loading lock",
        choice: "ws2_32 loads and starts providers in a process one thread at a time: an API call that must load a transport or namespace provider and call its WSPStartup or NSPStartup takes a lock of ws2_32's for that (a layered provider starting the layer below does so under it), and a call that finds the provider started meanwhile starts nothing. So ws2_32 never runs one transport or namespace provider's start-up twice at once in a process. Provider code starts providers outside that lock, so two start-ups of one provider can overlap where provider code makes one of them: two direct `Spi` start-ups; a layered provider's WSPSocket starting the layer below (under the layered provider's own lock, \"A failed lower start-up in WSPSocket\") beside ws2_32's start-up of the same provider for another thread's socket, or beside another layered provider's WSPSocket starting it; and two WSPStartupEx calls the switch in a TCP provider makes into a SAN provider for two threads (the switch is that provider's code). `refcount: Racy` shows its lost count only there.",
    },
    ModelChoice {
        topic: "closesocket with I/O pending",
        choice: "WSPCloseSocket aborts the socket's pending operations with WSA_OPERATION_ABORTED and notifies as a completion would (event, routine or port); only a transport provider's final WSPCleanup cancels silently (a SAN provider's completes them through WPUCompleteOverlappedRequest). Once a SAN provider's final WSPCleanup has begun, WSPCloseSocket leaves the pending operations to it.",
    },
    ModelChoice {
        topic: "Socket handles at the final WSACleanup",
        choice: "ws2_32 drops the handles the application still holds without calling WSPCloseSocket; resetting those sockets is the provider's duty (`wsp.cleanup.sockets_reset`).",
    },
    ModelChoice {
        topic: "The switch",
        choice: "The Winsock switch lives in the base TCP provider: only a socket of a TCP catalog entry may be routed to a SAN provider, and the switch's WSPCleanup calls come inside the TCP provider's final WSPCleanup. The switch handles an application's WSAAsyncSelect and WSAEventSelect on a socket it routed itself, and asks the SAN provider, once per socket, only for FD_ACCEPT and FD_CONNECT, through WSPEventSelect and an event object of its own (Microsoft's SAN pages: WSPAsyncSelect is not among the functions a SAN provider implements, and the switch passes those two events to WSPEventSelect); what a SAN provider signals, it signals on that event object. The switch leaves the sockets it routed to the SAN provider's final WSPCleanup (seed 004: \"Any sockets that are open during a final WSPCleanup call are reset\"). Seed 004 names no client of a SAN provider but the switch; where a process has another (a `Spi` step's WSPStartupEx, or the switch of a second TCP provider), the switch's WSPCleanup may not be the final one, and the sockets it routed then stay open, their operations pending, past the TCP provider's final WSPCleanup, until the last client's clean-up resets them; the trace says so where the TCP provider's final WSPCleanup leaves them (`N sockets the switch in msafd routed to sandrv stay open`). No contract is checked there (the switch's calls and returns for them, and a completion it would run, after its DLL is unloaded included): the seeds do not say what a switch owes a SAN provider it shares.",
    },
    ModelChoice {
        topic: "A failed switch start-up",
        choice: "When the switch cannot start a SAN provider, WSPSocket fails with WSAENETDOWN, a code WSPSocket documents, whatever WSPStartupEx returned.",
    },
    ModelChoice {
        topic: "The network subsystem fails",
        choice: "A `NetDown` fault fails the machine's network for good, for transport and SAN providers (namespace providers are not affected). Data in flight is lost (released by the kernel), that of a process that has ended included; each pending operation completes with WSAENETDOWN and is notified as a completion is (a SAN operation's memory is given back first); socket calls fail with WSAENETDOWN and WSPStartup with WSASYSNOTREADY. A WSPCleanup still counts down (the final one cancels, resets and frees as usual) and reports WSAENETDOWN, final or not (seeds 003 and 004 document the code; the clients count it as done).",
    },
    ModelChoice {
        topic: "A failed WSPCleanup",
        choice: "A WSPCleanup that fails with WSANOTINITIALISED (the code seed 004 names, and Microsoft's page gives 003's row for a clean-up no start-up preceded) or WSAEINVAL (003's row for a provider id not managed) did not count down: there was nothing to clean up. One that fails with WSAENETDOWN did (the network failed after its work), and so did one that fails with another code if it reported the count it kept, as a built-in model with `error_code: SysCallFailure` does (`spi.return_convention` reports the code).",
    },
    ModelChoice {
        topic: "Failed allocations",
        choice: "A `FailAlloc` fault makes the start-up whose allocation it fails return WSA_NOT_ENOUGH_MEMORY (NSPStartup and NSPv2Startup list that code; WSPStartup and WSPStartupEx do not, and ws2sim accepts it from them only there); a layer above passes WSASYSNOTREADY up instead (\"Protocol chains\").",
    },
    ModelChoice {
        topic: "SAN providers' own state",
        choice: "Seed 004 says nothing of a SAN provider's machine-wide state or of data left on its closed sockets: `machine_state` and `final_cleanup.lingering` are transport knobs only.",
    },
    ModelChoice {
        topic: "A process that returns",
        choice: "A process ends when all its scenario threads have run out of steps, as if its main returned: ExitProcess, DllMain(DLL_PROCESS_DETACH) with the terminating flag, no clean-up calls, then the kernel reclaims what the process held. However the process ends, a socket it still has open is closed abortively and the data queued on it is lost, while data on a socket it closed gracefully before is still sent (the seeds say nothing of a process's end: this is ws2sim's reading).",
    },
    ModelChoice {
        topic: "The loader lock",
        choice: "The loader lock is recursive and per process; LoadLibrary and FreeLibrary hold it around DllMain, and a thread's exit takes it (DLL_THREAD_DETACH), which is what makes waiting for a thread inside DllMain a deadlock.",
    },
    ModelChoice {
        topic: "A provider's worker thread",
        choice: "A provider's worker thread (`<provider>.worker`, started as the provider sets itself up) begins by waiting for its exit request, and only that request wakes it. It exits alike whether it first runs before the request or after it, so ws2sim counts those schedules as one: the thread's first instructions run once it is woken. A worker no request woke had either reached that wait, and stays in it, or had not run yet; where that matters, one scheduler decision says which, within the tick the worker was started at (past it the worker has run: a runnable thread runs before the clock moves on). It matters when the worker's DLL is unloaded with nobody having asked it to stop: one that had not run yet runs in the unloaded image (`loader.no_code_after_unload`). It matters too for a worker a second set-up put another in place of (a racy count): no request names it, but it reads the provider's one stop flag when it first runs, so at a stop request one that had not run yet sees the request and exits.",
    },
    ModelChoice {
        topic: "A DLL unloaded before its clean-up",
        choice: "A faulty caller may unload a provider's DLL while start-up calls it made there (WSPStartup, NSPStartup, NSPv2Startup) are still unmatched. What that copy of the provider kept goes with it: a copy loaded later counts its own start-ups (and NSPv2 sessions) from zero, knows neither the old copy's sockets nor its operations, and its own last WSPCleanup is its final one. The caller that left the start-ups unmatched is flagged where it is ws2_32 or a layer (`ws2.balanced`, `lsp.lower_balanced`), not where it is a `Spi` step; what the old copy held stays in the ledger until the process ends, and its worker thread, if it runs after the unload, runs in an unloaded image (`loader.no_code_after_unload`).",
    },
];
