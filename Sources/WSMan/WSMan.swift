// WSMan
