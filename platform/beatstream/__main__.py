from beatstream.cli import main

main()
