import PromobotCLI

/// The executable is only an entry point; everything lives in PromobotCLI.
@main
enum PromobotMain {
    static func main() async {
        await Promobot.main()
    }
}
