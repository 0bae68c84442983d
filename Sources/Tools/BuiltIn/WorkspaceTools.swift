/// The built-in tools over the workspace, git, HTTP, charts and mail.
enum WorkspaceTools {
    static let all: [any Tool] = [
        FileReadTool(), FileWriteTool(), FileListTool(),
        GitStatusTool(), GitDiffTool(), GitCommitTool(),
        HTTPFetchTool(),
        ChartRenderTool(),
        EmailSendTool(),
    ]
}
