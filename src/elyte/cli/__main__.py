from elyte.cli import main

main()
