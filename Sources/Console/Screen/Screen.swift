import Foundation

/// Where frames go: the terminal (`CursesScreen`) or memory (`RecordingScreen`, for tests and benchmarks).
public protocol Screen: AnyObject {
    /// The size frames should be rendered at.
    var size: ScreenSize { get }
    /// The theme used to colour the roles of the following frames.
    func apply(theme: Theme)
    func draw(_ frame: ScreenFrame)
}

/// A screen in memory. `draw` turns the frame into text and a role map, as a terminal backend would turn
/// it into escape sequences, so benchmarks measure a realistic cost; tests compare `dump()` with golden files.
public final class RecordingScreen: Screen {
    public var size: ScreenSize
    public private(set) var theme: Theme?
    public private(set) var lastFrame: ScreenFrame?
    public private(set) var drawCount = 0
    public private(set) var lastText: [String] = []
    public private(set) var lastRoles: [String] = []

    public init(size: ScreenSize) {
        self.size = size
    }

    public func apply(theme: Theme) {
        self.theme = theme
    }

    public func draw(_ frame: ScreenFrame) {
        lastFrame = frame
        drawCount += 1
        lastText = frame.textLines()
        lastRoles = frame.roleLines()
    }

    /// The golden-file text of the last frame (text, role map, attributes, legend).
    public func dump() -> String {
        lastFrame?.goldenDump() ?? "(nothing drawn)\n"
    }
}
