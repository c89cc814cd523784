import ProcessMemory
import PromobotCLI

/// The executable is only an entry point; everything lives in PromobotCLI.
@main
enum PromobotMain {
    static func main() async {
        // Before any other thread starts: a long-lived `serve` must not grow with glibc's per-thread arenas.
        ProcessMemory.limitAllocatorArenas()
        await Promobot.main()
    }
}
