from onebar.cli import main

main()
