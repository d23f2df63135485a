// Preloaded into the Azurite processes the tests start (node --require): the process ends when its standard input
// closes, which happens when the test host that started it is gone, even if the host was killed before it could stop it.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
