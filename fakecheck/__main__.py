from fakecheck.cli.app import main

main()
