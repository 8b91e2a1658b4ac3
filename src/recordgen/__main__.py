from recordgen.cli import main

main()
