from courtside.cli import main

main()
