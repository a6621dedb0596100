import Foundation
import FuzzTargets

/// The target `LTS_FUZZ_TARGET` names (read once).
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["LTS_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("lts-fuzz: set LTS_FUZZ_TARGET to one of \(names)\n".utf8))
        exit(2)
    }
    return target
}()

/// libFuzzer's entry: one input for the selected target.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = selectedTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

#if LTS_LIBFUZZER
/// libFuzzer's driver (its own `main` is not linked: this one is).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif

/// Built with `-sanitize=fuzzer` and `-DLTS_LIBFUZZER` (`make fuzz`): libFuzzer
/// with its usual arguments. A plain build: `lts-fuzz FILE…` runs each file
/// through the target, as libFuzzer replays a corpus, and
/// `lts-fuzz --write-seeds DIR` writes every target's seeds to DIR/TARGET/.
@main
enum FuzzMain {
    static func main() {
        #if LTS_LIBFUZZER
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
        #else
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--write-seeds", arguments.count == 2 {
            writeSeeds(to: arguments[1])
            return
        }
        for path in arguments {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("lts-fuzz: cannot read \(path)\n".utf8))
                exit(1)
            }
            _ = selectedTarget.run(Array(data))
        }
        #endif
    }

    static func writeSeeds(to directory: String) {
        for target in FuzzTarget.allCases {
            let folder = directory + "/" + target.rawValue
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for (index, seed) in FuzzSeeds.seeds(of: target).enumerated() {
                    try Data(seed).write(to: URL(fileURLWithPath: folder + "/seed-\(index + 1)"))
                }
            } catch {
                FileHandle.standardError.write(Data("lts-fuzz: cannot write seeds to \(folder): \(error)\n".utf8))
                exit(1)
            }
        }
    }
}
